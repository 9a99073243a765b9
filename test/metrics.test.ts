import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Stats } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { streamEvents, until } from "./support/brook-harness.js";
import { freePort } from "./support/free-port.js";
import { health, toolCallDeltas, toolEvents } from "./support/mcp-harness.js";
import { startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

/** The value of one sample of a scrape, by its name and labels as Brook writes them. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The count of the smallest bucket of `histogram` that holds `seconds`, and of the one below it. */
function bucketsAround(text: string, histogram: string, labels: string, seconds: number) {
  const bounds = [...text.matchAll(new RegExp(`^${histogram}_bucket\\{le="([^"]+)",${labels}\\} `, "gm"))]
    .map((match) => Number(match[1]))
    .filter(Number.isFinite);
  const holding = bounds.findIndex((bound) => bound >= seconds);
  const series = (bound: number | undefined) =>
    bound === undefined ? 0 : sample(text, `${histogram}_bucket{le="${bound}",${labels}}`);
  return { below: series(bounds[holding - 1]), holding: series(bounds[holding]) };
}

describe("/metrics after real runs", () => {
  it("has histograms, run outcomes with error codes, model and tool calls, MCP servers up or down, and the process", async () => {
    const mcp = await startMcpTestServer();
    afterThisTest(() => mcp.close());
    const dir = await mkdtemp(join(tmpdir(), "brook-metrics-"));
    afterThisTest(() => rm(dir, { recursive: true, force: true }));
    const servers = join(dir, "mcp.json");
    const nowhere = `http://127.0.0.1:${await freePort()}/mcp`;
    await writeFile(servers, JSON.stringify({ mcpServers: { tools: { url: mcp.url }, gone: { url: nowhere } } }));
    const { url } = await harness({ MCP_SERVERS: servers, MCP_RETRY_MAX_MS: "200", TOOL_TIMEOUT_MS: "300" });
    await until(async () => {
      const statuses = (await health(url)).mcp_servers.map((server) => `${server.name}:${server.status}`);
      return statuses.includes("tools:connected") && statuses.includes("gone:unavailable");
    }, 15_000);

    // A run with one tool round through the real MCP server (a success, the tool's own failure, a
    // call past TOOL_TIMEOUT_MS), then an answer.
    const calls = [
      { id: "call_add", name: "tools__add", arguments: '{"a":2,"b":3}' },
      { id: "call_fail", name: "tools__fail", arguments: "{}" },
      { id: "call_slow", name: "tools__slow", arguments: '{"ms":10000}' },
    ];
    const completed = await streamEvents(url, {
      message: `use them ${fake({ toolCallDeltas: toolCallDeltas(calls) })}`,
    });
    expect(toolEvents(completed).filter((event) => event.type === "tool_result")).toEqual([
      expect.objectContaining({ name: "tools__add", is_error: false }),
      expect.objectContaining({ name: "tools__fail", is_error: true }),
      expect.objectContaining({ name: "tools__slow", is_error: true }),
    ]);
    const complete = completed.at(-1);
    if (complete?.type !== "complete") throw new Error(`the run did not complete: ${JSON.stringify(complete)}`);
    // A run the model server refuses.
    const failed = (await streamEvents(url, { message: `refused ${fake({ status: 401 })}` })).at(-1);
    expect(failed).toMatchObject({ type: "error", code: "upstream_auth" });

    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();

    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'brook_requests_total{kind="streaming",outcome="failed",code="upstream_auth"}')).toBe(1);
    // The tool round and the answer, then the refused call.
    expect(sample(text, 'brook_model_calls_total{model="gpt-4o-mini",outcome="succeeded"}')).toBe(2);
    expect(sample(text, 'brook_model_calls_total{model="gpt-4o-mini",outcome="failed",code="upstream_auth"}')).toBe(1);

    // Histograms: each run in the bucket that holds its time, not in the one below.
    expect(text).toContain("# TYPE brook_run_duration_seconds histogram");
    expect(text).toContain("# TYPE brook_ttft_seconds histogram");
    const { timing } = complete;
    expect(bucketsAround(text, "brook_run_duration_seconds", 'outcome="succeeded"', timing.duration_ms / 1000)).toEqual(
      {
        below: 0,
        holding: 1,
      },
    );
    expect(sample(text, 'brook_run_duration_seconds_count{outcome="failed"}')).toBe(1);
    expect(sample(text, "brook_ttft_seconds_count")).toBe(1);
    expect(sample(text, "brook_ttft_seconds_sum")).toBeCloseTo((timing.ttft_ms as number) / 1000, 6);

    const add = 'server="tools",tool="add",outcome="succeeded"';
    const fail = 'server="tools",tool="fail",outcome="tool_error"';
    expect(text).toContain("# TYPE brook_tool_call_duration_seconds histogram");
    expect(sample(text, `brook_tool_call_duration_seconds_count{${add}}`)).toBe(1);
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="+Inf",${add}}`)).toBe(1);
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="120",${add}}`)).toBe(1);
    expect(sample(text, `brook_tool_call_duration_seconds_count{${fail}}`)).toBe(1);
    const slow = 'server="tools",tool="slow",outcome="timeout"';
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="0.25",${slow}}`)).toBe(0);
    expect(sample(text, `brook_tool_call_duration_seconds_bucket{le="1",${slow}}`)).toBe(1);
    expect(
      sample(text, 'brook_tool_call_duration_seconds_sum{server="tools",tool="add",outcome="succeeded"}'),
    ).toBeLessThan(timing.duration_ms / 1000);

    expect(sample(text, 'brook_mcp_server_up{server="tools"}')).toBe(1);
    expect(sample(text, 'brook_mcp_server_up{server="gone"}')).toBe(0);

    // One definition of the percentiles: /metrics gives what /stats gives, each a run's own value.
    const stats = Stats.parse(await (await fetch(`${url}/stats`)).json());
    expect(stats.ttft_ms).toEqual({ count: 1, p50: timing.ttft_ms, p90: timing.ttft_ms, p99: timing.ttft_ms });
    expect(stats.duration_ms.count).toBe(2);
    for (const [quantile, key] of [
      ["0.5", "p50"],
      ["0.9", "p90"],
      ["0.99", "p99"],
    ] as const) {
      expect(sample(text, `brook_ttft_ms{quantile="${quantile}"}`)).toBe(stats.ttft_ms[key]);
      expect(sample(text, `brook_run_duration_ms{quantile="${quantile}"}`)).toBe(stats.duration_ms[key]);
    }
    expect([stats.duration_ms.p50, stats.duration_ms.p90]).toContain(timing.duration_ms);

    // Process and event-loop metrics, under Brook's prefix.
    expect(text).toMatch(/^brook_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^brook_process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^brook_nodejs_heap_size_used_bytes \d/m);
    expect(text).toMatch(/^brook_nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^brook_nodejs_eventloop_lag_p99_seconds \d/m);
  });
});
