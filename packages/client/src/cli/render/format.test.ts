import type { Health, Stats, Usage } from "@brook/shared";
import picocolors from "picocolors";
import { describe, expect, it } from "vitest";
import {
  formatCost,
  formatHealth,
  formatMilliseconds,
  formatRunSummary,
  formatStats,
  formatToolCall,
  formatToolResult,
  formatUptime,
  formatUsage,
  oneLine,
} from "./format.js";

const plain = picocolors.createColors(false);
const usage: Usage = {
  input_tokens: 1234,
  output_tokens: 56,
  total_tokens: 1290,
  total_cost: 0.0000104,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

describe("formatting numbers", () => {
  it("shows costs with two significant digits when small", () => {
    expect(formatCost(0)).toBe("$0");
    expect(formatCost(0.0000104)).toBe("$0.000010");
    expect(formatCost(0.0123)).toBe("$0.012");
    expect(formatCost(0.5)).toBe("$0.50");
    expect(formatCost(12.345)).toBe("$12.35");
  });

  it("shows durations in ms below a second, else in seconds", () => {
    expect(formatMilliseconds(312.4)).toBe("312 ms");
    expect(formatMilliseconds(1530)).toBe("1.53 s");
  });

  it("shows uptimes in the largest units", () => {
    expect(formatUptime(42.9)).toBe("42s");
    expect(formatUptime(125)).toBe("2m 5s");
    expect(formatUptime(3723)).toBe("1h 2m 3s");
    expect(formatUptime(3 * 86_400 + 4 * 3600 + 59)).toBe("3d 4h");
  });

  it("flattens text to one cut line", () => {
    expect(oneLine("a\n  b\tc")).toBe("a b c");
    expect(oneLine("x".repeat(10), 5)).toBe("xxxx…");
  });
});

describe("run summaries", () => {
  it("names the model, tokens, cost and timing", () => {
    expect(formatRunSummary("gpt-4o-mini", usage, { ttft_ms: 312.4, duration_ms: 1530, tokens_per_s: 45.67 })).toBe(
      "gpt-4o-mini · tokens 1,234 in / 56 out · cost $0.000010 · ttft 312 ms · duration 1.53 s · 45.7 tokens/s",
    );
  });

  it("marks estimated tokens and unknown prices, and leaves out timing it does not have", () => {
    expect(formatUsage({ ...usage, estimated: true, priced: false, total_cost: 0 })).toBe(
      "tokens ~1,234 in / ~56 out (estimated) · cost unknown (no price for this model)",
    );
    expect(formatRunSummary(undefined, usage)).toBe("tokens 1,234 in / 56 out · cost $0.000010");
    expect(formatRunSummary("m", usage, { ttft_ms: null, duration_ms: 20, tokens_per_s: 0 })).toContain("ttft —");
  });

  it("shows the cached and reasoning parts of the tokens, and how long the model thought, when there are any", () => {
    const reasoned = { ...usage, input_tokens: 2000, cached_input_tokens: 1024, reasoning_tokens: 40 };
    expect(
      formatRunSummary("deepseek-reasoner", reasoned, {
        ttft_ms: 1700,
        duration_ms: 2000,
        tokens_per_s: 28,
        reasoning_ms: 1530,
      }),
    ).toBe(
      "deepseek-reasoner · tokens 2,000 in (1,024 cached) / 56 out (40 reasoning) · cost $0.000010 · ttft 1.70 s · thought 1.53 s · duration 2.00 s · 28.0 tokens/s",
    );
    expect(formatUsage({ ...reasoned, cached_input_tokens: 0, estimated: true })).toBe(
      "tokens ~2,000 in / ~56 out (~40 reasoning) (estimated) · cost $0.000010",
    );
  });

  it("shows tool calls and results on one line each", () => {
    expect(
      formatToolCall({ type: "tool_call", id: "1", name: "get-sum", arguments: '{"a": 1,\n "b": 2}' }, plain),
    ).toBe('⚙ get-sum {"a": 1, "b": 2}');
    expect(
      formatToolResult({ type: "tool_result", id: "1", name: "get-sum", result: "3", is_error: false }, plain),
    ).toBe("↳ get-sum 3");
    expect(
      formatToolResult({ type: "tool_result", id: "1", name: "fetch", result: "timed out", is_error: true }, plain),
    ).toBe("✗ fetch failed: timed out");
  });
});

describe("statistics", () => {
  const stats: Stats = {
    requests: { total: 3, streaming: 2, non_streaming: 1, succeeded: 2, failed: 1, cancelled: 0 },
    active_runs: 0,
    tokens: { input: 1500, output: 90, total: 1590, cached_input: 0, reasoning: 0 },
    total_cost: 0.0021,
    models: {
      small: {
        requests: 1,
        input_tokens: 300,
        output_tokens: 10,
        cached_input_tokens: 0,
        reasoning_tokens: 0,
        total_cost: 0,
      },
      "gpt-4o-mini": {
        requests: 2,
        input_tokens: 1200,
        output_tokens: 80,
        cached_input_tokens: 0,
        reasoning_tokens: 0,
        total_cost: 0.0021,
      },
    },
    ttft_ms: { count: 0, p50: null, p90: null, p99: null },
    duration_ms: { count: 1, p50: 800, p90: 800, p99: 800 },
    uptime_s: 65,
    since: "2026-01-01T00:00:00.000Z",
  };

  it("lists totals, percentiles and a table of models, busiest first", () => {
    const lines = formatStats(stats, plain).split("\n");
    expect(lines).toContain("requests  3 total · 2 streaming · 1 non-streaming");
    expect(lines).toContain("tokens    1,500 in · 90 out · 1,590 total");
    expect(lines).toContain("ttft      —");
    expect(lines).toContain("duration  p50 800 ms · p90 800 ms · p99 800 ms (1 run)");
    expect(lines).toContain("since     2026-01-01T00:00:00.000Z (up 1m 5s)");
    const table = lines.slice(lines.indexOf("") + 1);
    expect(table).toEqual([
      "model        requests  tokens in  tokens out     cost",
      "gpt-4o-mini         2      1,200          80  $0.0021",
      "small               1        300          10       $0",
    ]);
  });

  it("adds the cached and reasoning parts of the tokens when there are any", () => {
    const lines = formatStats({ ...stats, tokens: { ...stats.tokens, cached_input: 1024, reasoning: 40 } }, plain);
    expect(lines.split("\n")).toContain("tokens    1,500 in · 90 out · 1,590 total (1,024 cached in · 40 reasoning)");
  });

  it("leaves the table out before any request", () => {
    expect(formatStats({ ...stats, models: {} }, plain)).not.toContain("tokens in");
  });
});

describe("health", () => {
  const health: Health = {
    status: "ok",
    streaming: true,
    mode: "openai",
    model: "gpt-4o-mini",
    version: "0.1.0",
    uptime_s: 90,
    active_runs: 2,
    mcp_servers: [],
    auth_required: false,
    ready: true,
  };

  it("says what the start-up check of the model server found, and the state of Redis, when there are any", () => {
    const lines = formatHealth(
      {
        ...health,
        ready: false,
        model_server: { status: "rejected_key", detail: "the model server refused the API key: check OPENAI_API_KEY" },
        redis: { status: "unavailable", last_error: "connect ECONNREFUSED 127.0.0.1:6379" },
      },
      "http://127.0.0.1:8081",
      plain,
    ).split("\n");
    expect(lines).toContain("model server  rejected key · the model server refused the API key: check OPENAI_API_KEY");
    expect(lines).toContain("redis         unavailable · connect ECONNREFUSED 127.0.0.1:6379");
  });

  it("leaves both out when there is nothing to say", () => {
    const text = formatHealth({ ...health, model_server: { status: "unchecked", detail: "demo mode" } }, "u", plain);
    expect(text).not.toMatch(/model server|redis/);
  });
});
