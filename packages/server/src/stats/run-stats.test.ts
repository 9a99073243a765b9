import type { ParsedChatRequest, TerminalEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import type { RunEnded, RunKind } from "../control/run-control.js";
import { MemoryRunStats, maxModels } from "./run-stats.js";

const usage = (input: number, output: number, cost: number, cached = 0, reasoning = 0) => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
  total_cost: cost,
  cached_input_tokens: cached,
  reasoning_tokens: reasoning,
  estimated: false,
  priced: true,
});

function ended(
  fields: { kind?: RunKind; model?: string; ttft?: number | null; duration?: number; code?: "cancelled" | "timeout" },
  tokens = usage(10, 5, 0.001),
): RunEnded {
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
    kind: fields.kind ?? "streaming",
    model: fields.model ?? "gpt-4o-mini",
    request: { message: "hi" } as ParsedChatRequest,
    terminal,
    timing,
  };
}

describe("MemoryRunStats", () => {
  it("counts runs by kind and outcome, tokens and cost in all and per model", async () => {
    const stats = new MemoryRunStats(() => 2);
    stats.record(ended({}));
    stats.record(ended({ kind: "non_streaming", model: "other-model" }, usage(1, 2, 0.5, 1, 2)));
    stats.record(ended({ code: "cancelled" }));
    stats.record(ended({ code: "timeout" }, usage(10, 5, 0.001, 8, 3)));
    const snapshot = await stats.snapshot();
    expect(snapshot.requests).toEqual({
      total: 4,
      streaming: 3,
      non_streaming: 1,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
    });
    expect(snapshot.active_runs).toBe(2);
    expect(snapshot.tokens).toEqual({ input: 31, output: 17, total: 48, cached_input: 9, reasoning: 5 });
    expect(snapshot.total_cost).toBe(0.503);
    expect(snapshot.models["other-model"]).toEqual({
      requests: 1,
      input_tokens: 1,
      output_tokens: 2,
      cached_input_tokens: 1,
      reasoning_tokens: 2,
      total_cost: 0.5,
    });
    expect(snapshot.models["gpt-4o-mini"]).toMatchObject({ requests: 3, cached_input_tokens: 8, reasoning_tokens: 3 });
  });

  it("gives TTFT and duration percentiles; runs without a first token count for duration only", async () => {
    const stats = new MemoryRunStats(() => 0);
    for (let index = 1; index <= 100; index++) stats.record(ended({ ttft: index * 10, duration: 1_000 }));
    stats.record(ended({ ttft: null, code: "cancelled" }));
    const snapshot = await stats.snapshot();
    expect(snapshot.ttft_ms.count).toBe(100);
    expect(snapshot.ttft_ms.p50).toBeCloseTo(500, -1);
    expect(snapshot.ttft_ms.p99).toBeCloseTo(990, -2);
    expect(snapshot.duration_ms).toMatchObject({ count: 101 });
  });

  it("resets to nothing, and says since when it counts", async () => {
    const stats = new MemoryRunStats(() => 0);
    stats.record(ended({}));
    const before = await stats.snapshot();
    const fresh = await stats.reset();
    expect(fresh.requests.total).toBe(0);
    expect(fresh.models).toEqual({});
    expect(fresh.ttft_ms).toEqual({ count: 0, p50: null, p90: null, p99: null });
    expect(Date.parse(fresh.since)).toBeGreaterThanOrEqual(Date.parse(before.since));
  });

  it("keeps a bounded number of model names: the rest count as other", async () => {
    const stats = new MemoryRunStats(() => 0);
    for (let index = 0; index < maxModels + 5; index++) stats.record(ended({ model: `model-${index}` }));
    const { models } = await stats.snapshot();
    expect(Object.keys(models)).toHaveLength(maxModels + 1);
    expect(models.other?.requests).toBe(5);
  });
});
