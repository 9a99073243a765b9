import type { ErrorCode, McpServerStatus, ParsedChatRequest, TerminalEvent } from "@brook/shared";
import { AggregatorRegistry, type Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { RunEnded } from "../control/run-control.js";
import { Metrics } from "./metrics.js";
import { MemoryRunStats } from "./run-stats.js";

const usage = (input: number, output: number, cached = 0, reasoning = 0) => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
  total_cost: 0.001,
  cached_input_tokens: cached,
  reasoning_tokens: reasoning,
  estimated: false,
  priced: true,
});

function ended(fields: { ttft?: number | null; duration?: number; code?: ErrorCode }, tokens = usage(10, 5)): RunEnded {
  const timing = {
    ttft_ms: fields.ttft === undefined ? 100 : fields.ttft,
    duration_ms: fields.duration ?? 500,
    tokens_per_s: 10,
  };
  const terminal: TerminalEvent =
    fields.code === undefined
      ? { type: "complete", full_content: "", usage: tokens, finish_reason: "stop", timing }
      : { type: "error", error: "stopped", code: fields.code, retryable: false, usage: tokens };
  return {
    id: "r",
    kind: "streaming",
    model: "gpt-4o-mini",
    request: { message: "hi" } as ParsedChatRequest,
    terminal,
    timing,
  };
}

function server(name: string, status: McpServerStatus["status"]): McpServerStatus {
  return { name, status, transport: "stdio", tool_count: 1, last_error: null };
}

function metricsOf(active = () => 0, servers: McpServerStatus[] = []) {
  return new Metrics({ activeRuns: active, mcpServers: () => servers });
}

/** The value of one exposed sample, by its whole line's name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("Metrics", () => {
  it("counts runs by kind and outcome, failed ones with their error code, and the active runs", async () => {
    let active = 3;
    const metrics = metricsOf(() => active);
    metrics.record(ended({}));
    metrics.record(ended({ code: "cancelled" }, usage(10, 5, 4, 2)));
    metrics.record(ended({ code: "upstream_error" }));
    metrics.record(ended({ code: "upstream_error" }));
    const text = await metrics.text();
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="cancelled",code="cancelled"}')).toBe(1);
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="failed",code="upstream_error"}')).toBe(2);
    expect(sample(text, 'brook_tokens_total{model="gpt-4o-mini",direction="input"}')).toBe(40);
    expect(sample(text, 'brook_tokens_total{model="gpt-4o-mini",direction="cached_input"}')).toBe(4);
    expect(sample(text, 'brook_tokens_total{model="gpt-4o-mini",direction="reasoning"}')).toBe(2);
    expect(sample(text, "brook_active_runs")).toBe(3);
    active = 0;
    expect(sample(await metrics.text(), "brook_active_runs")).toBe(0);
  });

  it("puts TTFT and duration in histograms of seconds, which add up across instances", async () => {
    const metrics = metricsOf();
    metrics.record(ended({ ttft: 120, duration: 6_877 }));
    metrics.record(ended({ ttft: 480, duration: 5_540 }));
    metrics.record(ended({ ttft: null, duration: 30, code: "cancelled" }));
    const text = await metrics.text();
    expect(text).toContain("# TYPE brook_ttft_seconds histogram");
    expect(text).toContain("# TYPE brook_run_duration_seconds histogram");
    expect(sample(text, 'brook_ttft_seconds_bucket{le="0.1"}')).toBe(0);
    expect(sample(text, 'brook_ttft_seconds_bucket{le="0.25"}')).toBe(1);
    expect(sample(text, 'brook_ttft_seconds_bucket{le="0.5"}')).toBe(2);
    expect(sample(text, 'brook_ttft_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, "brook_ttft_seconds_sum")).toBeCloseTo(0.6, 10);
    expect(sample(text, "brook_ttft_seconds_count")).toBe(2);
    expect(sample(text, 'brook_run_duration_seconds_bucket{le="5",outcome="succeeded"}')).toBe(0);
    expect(sample(text, 'brook_run_duration_seconds_bucket{le="7.5",outcome="succeeded"}')).toBe(2);
    expect(sample(text, 'brook_run_duration_seconds_bucket{le="0.25",outcome="cancelled"}')).toBe(1);
    expect(sample(text, 'brook_run_duration_seconds_count{outcome="succeeded"}')).toBe(2);
  });

  it("gives the same percentiles as /stats, a run's own value: 6,877 and 5,540 ms make p50 5,540", async () => {
    const metrics = metricsOf();
    const stats = new MemoryRunStats(() => 0);
    expect(await metrics.text()).not.toMatch(/^brook_run_duration_ms\{/m);
    for (const run of [ended({ ttft: 250, duration: 6_877 }), ended({ ttft: 310.5, duration: 5_540 })]) {
      metrics.record(run);
      stats.record(run);
    }
    const text = await metrics.text();
    const snapshot = await stats.snapshot();
    expect(snapshot.duration_ms).toEqual({ count: 2, p50: 5_540, p90: 6_877, p99: 6_877 });
    expect(snapshot.ttft_ms).toEqual({ count: 2, p50: 250, p90: 310.5, p99: 310.5 });
    expect(sample(text, 'brook_run_duration_ms{quantile="0.5"}')).toBe(5_540);
    expect(sample(text, 'brook_run_duration_ms{quantile="0.9"}')).toBe(6_877);
    expect(sample(text, 'brook_run_duration_ms{quantile="0.99"}')).toBe(6_877);
    expect(sample(text, 'brook_ttft_ms{quantile="0.5"}')).toBe(250);
    expect(sample(text, 'brook_ttft_ms{quantile="0.99"}')).toBe(310.5);
  });

  it("counts model calls by model and outcome, and tool calls by server, tool and outcome with their duration", async () => {
    const metrics = metricsOf();
    metrics.recordModelCall("gpt-4o-mini", null);
    metrics.recordModelCall("gpt-4o-mini", null);
    metrics.recordModelCall("gpt-4o-mini", "timeout");
    metrics.recordModelCall("gpt-4o-mini", "cancelled");
    metrics.recordToolCall({ server: "files", tool: "read", outcome: "succeeded", durationMs: 3 });
    metrics.recordToolCall({ server: "files", tool: "read", outcome: "succeeded", durationMs: 700 });
    metrics.recordToolCall({ server: "files", tool: "read", outcome: "timeout", durationMs: 60_000 });
    const text = await metrics.text();
    expect(sample(text, 'brook_model_calls_total{model="gpt-4o-mini",outcome="succeeded"}')).toBe(2);
    expect(sample(text, 'brook_model_calls_total{model="gpt-4o-mini",outcome="failed",code="timeout"}')).toBe(1);
    expect(sample(text, 'brook_model_calls_total{model="gpt-4o-mini",outcome="cancelled",code="cancelled"}')).toBe(1);
    const read = 'server="files",tool="read"';
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="0.005",${read},outcome="succeeded"}`)).toBe(1);
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="1",${read},outcome="succeeded"}`)).toBe(2);
    expect(sample(text, `brook_tool_call_duration_seconds_count{${read},outcome="succeeded"}`)).toBe(2);
    expect(sample(text, `brook_tool_call_duration_seconds_count{${read},outcome="timeout"}`)).toBe(1);
  });

  it("says which MCP servers are up, as the tool registry sees them at each scrape", async () => {
    const servers = [server("files", "connected"), server("search", "unavailable")];
    const metrics = metricsOf(() => 0, servers);
    let text = await metrics.text();
    expect(sample(text, 'brook_mcp_server_up{server="files"}')).toBe(1);
    expect(sample(text, 'brook_mcp_server_up{server="search"}')).toBe(0);
    servers.splice(0, 2, server("files", "connecting"), server("search", "connected"));
    text = await metrics.text();
    expect(sample(text, 'brook_mcp_server_up{server="files"}')).toBe(0);
    expect(sample(text, 'brook_mcp_server_up{server="search"}')).toBe(1);
  });

  it("exposes the process and event-loop metrics once, under the same prefix, for every server in the process", async () => {
    for (const text of [await metricsOf().text(), await metricsOf().text()]) {
      expect(text).toMatch(/^brook_process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^brook_process_resident_memory_bytes \d/m);
      expect(text).toMatch(/^brook_nodejs_eventloop_lag_seconds \d/m);
      expect(text).toMatch(/^brook_nodejs_eventloop_lag_p99_seconds \d/m);
      expect(text.match(/^# TYPE brook_nodejs_eventloop_lag_seconds /gm)).toHaveLength(1);
    }
  });

  it("adds up over workers as each metric means: counters and histograms summed, up-ness by the worst, percentiles left out", async () => {
    const registries: Registry[] = [];
    const gather = (registry: Registry) => {
      registries.push(registry);
      return () => registry.metrics();
    };
    const workers = [
      new Metrics({ activeRuns: () => 2, mcpServers: () => [server("files", "connected")] }, { gather }),
      new Metrics({ activeRuns: () => 1, mcpServers: () => [server("files", "unavailable")] }, { gather }),
    ];
    for (const worker of workers) worker.record(ended({ ttft: 200 }));
    workers[0]?.record(ended({ code: "timeout" }));
    const text = await AggregatorRegistry.aggregate(
      await Promise.all(registries.map((registry) => registry.getMetricsAsJSON())),
    ).metrics();
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="succeeded"}')).toBe(2);
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="failed",code="timeout"}')).toBe(1);
    expect(sample(text, 'brook_ttft_seconds_bucket{le="0.25"}')).toBe(3);
    expect(sample(text, "brook_active_runs")).toBe(3);
    expect(sample(text, 'brook_mcp_server_up{server="files"}')).toBe(0);
    expect(text).not.toContain("brook_ttft_ms");
    expect(text).not.toContain("brook_run_duration_ms");
  });
});
