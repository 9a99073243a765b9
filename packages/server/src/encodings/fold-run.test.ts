import type { ChatEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { MemoryRunLog } from "../storage/memory-run-log.js";
import { ChatResultFold, foldRun } from "./fold-run.js";

const usage = {
  input_tokens: 3,
  output_tokens: 2,
  total_tokens: 5,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

function newRun() {
  const log = new MemoryRunLog("r", { bufferEvents: 16, resumable: false });
  return { run: { id: "r", model: "m", log }, append: (...events: ChatEvent[]) => log.append(events) };
}

describe("foldRun", () => {
  it("folds a run into one answer", async () => {
    const { run, append } = newRun();
    const folding = foldRun(run.log, new ChatResultFold(run), new AbortController().signal);
    append({ type: "start", message: "开始生成响应...", run_id: "r", model: "m" });
    append({ type: "content", chunk: "Hel" }, { type: "content", chunk: "lo" });
    const timing = { ttft_ms: 1, duration_ms: 2, tokens_per_s: 3 };
    append({ type: "complete", full_content: "Hello", usage, finish_reason: "stop", timing });
    expect(await folding).toEqual({
      response: "Hello",
      usage,
      model: "m",
      run_id: "r",
      finish_reason: "stop",
      timing,
    });
  });

  it("returns the model's reasoning beside the answer, only when it reasoned", async () => {
    const { run, append } = newRun();
    append(
      { type: "reasoning", chunk: "Hmm." },
      { type: "content", chunk: "Hi" },
      {
        type: "complete",
        full_content: "Hi",
        full_reasoning: "Hmm.",
        usage: { ...usage, reasoning_tokens: 1 },
        finish_reason: "stop",
        timing: { ttft_ms: 2, duration_ms: 3, tokens_per_s: 1, reasoning_ms: 1 },
      },
    );
    const result = await foldRun(run.log, new ChatResultFold(run), new AbortController().signal);
    expect(result).toMatchObject({ response: "Hi", reasoning: "Hmm.", timing: { reasoning_ms: 1 } });
  });

  it("lists each tool call with its result", async () => {
    const { run, append } = newRun();
    append(
      { type: "tool_call", id: "c1", name: "echo", arguments: '{"message":"x"}' },
      { type: "tool_call", id: "c2", name: "sum", arguments: "{}" },
      { type: "tool_result", id: "c2", name: "sum", result: "bad", is_error: true },
      { type: "tool_result", id: "c1", name: "echo", result: "x", is_error: false },
      {
        type: "complete",
        full_content: "",
        usage,
        finish_reason: "stop",
        timing: { ttft_ms: null, duration_ms: 1, tokens_per_s: 0 },
      },
    );
    const result = await foldRun(run.log, new ChatResultFold(run), new AbortController().signal);
    expect(result.tool_calls).toEqual([
      {
        call: { id: "c1", name: "echo", arguments: '{"message":"x"}' },
        result: { id: "c1", name: "echo", result: "x", is_error: false },
      },
      {
        call: { id: "c2", name: "sum", arguments: "{}" },
        result: { id: "c2", name: "sum", result: "bad", is_error: true },
      },
    ]);
  });

  it("throws a failed run's error with its usage", async () => {
    const { run, append } = newRun();
    const folding = foldRun(run.log, new ChatResultFold(run), new AbortController().signal);
    append({ type: "error", error: "boom", code: "upstream_error", retryable: true, usage });
    await expect(folding).rejects.toMatchObject({ code: "upstream_error", message: "boom", usage });
  });

  it("reports a caller that left as a cancelled request, not as a server failure", async () => {
    const { run } = newRun();
    const caller = new AbortController();
    const folding = foldRun(run.log, new ChatResultFold(run), caller.signal);
    caller.abort();
    const error = await folding.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrookError);
    expect(error).toMatchObject({ code: "cancelled" });
  });
});
