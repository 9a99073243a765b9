import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { foldRun } from "./fold-run.js";
import { Run } from "./run.js";

const usage = { input_tokens: 3, output_tokens: 2, total_tokens: 5, total_cost: 0, estimated: false, priced: true };

function newRun(): Run {
  return new Run({ id: "r", kind: "non_streaming", model: "m", bufferEvents: 16, graceMs: 0 });
}

describe("foldRun", () => {
  it("folds a run into one answer", async () => {
    const run = newRun();
    const folding = foldRun(run, new AbortController().signal);
    run.append({ type: "start", message: "开始生成响应...", run_id: "r", model: "m" });
    run.append({ type: "content", chunk: "Hel" });
    run.append({ type: "content", chunk: "lo" });
    const timing = { ttft_ms: 1, duration_ms: 2, tokens_per_s: 3 };
    run.append({ type: "complete", full_content: "Hello", usage, finish_reason: "stop", timing });
    expect(await folding).toEqual({
      response: "Hello",
      usage,
      model: "m",
      run_id: "r",
      finish_reason: "stop",
      timing,
    });
  });

  it("throws a failed run's error with its usage", async () => {
    const run = newRun();
    const folding = foldRun(run, new AbortController().signal);
    run.append({ type: "error", error: "boom", code: "upstream_error", retryable: true, usage });
    await expect(folding).rejects.toMatchObject({ code: "upstream_error", message: "boom", usage });
  });

  it("reports a caller that left as a cancelled request, not as a server failure", async () => {
    const run = newRun();
    const caller = new AbortController();
    const folding = foldRun(run, caller.signal);
    caller.abort();
    const error = await folding.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrookError);
    expect(error).toMatchObject({ code: "cancelled" });
  });
});
