import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";
import { TimedChatModel } from "./timed-model.js";

/** A model that yields `parts`, pausing `gaps[i]` ms before part i, and notes when its signal aborted. */
function scriptedModel(parts: ModelPart[], gaps: number[]): ChatModel & { aborted: () => boolean } {
  let aborted = false;
  return {
    mode: "openai",
    aborted: () => aborted,
    async *stream(call: ModelCall) {
      call.signal.addEventListener("abort", () => {
        aborted = true;
      });
      for (const [index, part] of parts.entries()) {
        await sleep(gaps[index] ?? 0, undefined, { signal: call.signal });
        yield [part];
      }
    },
  };
}

const text = (value: string): ModelPart => ({ type: "text", text: value });
const call = (signal = new AbortController().signal): ModelCall => ({ model: "m", messages: [], signal });

async function collect(model: ChatModel, signal?: AbortSignal) {
  const parts: ModelPart[] = [];
  try {
    for await (const batch of model.stream(call(signal))) parts.push(...batch);
    return { parts, error: undefined };
  } catch (error) {
    return { parts, error };
  }
}

describe("TimedChatModel", () => {
  it("passes a model that answers in time through unchanged", async () => {
    const parts: ModelPart[] = [{ type: "accepted" }, text("a"), text("b"), { type: "finish", reason: "stop" }];
    const result = await collect(
      new TimedChatModel(scriptedModel(parts, [0, 5, 5, 5]), { firstTokenMs: 1000, idleMs: 1000 }),
    );
    expect(result.error).toBeUndefined();
    expect(result.parts).toEqual(parts);
  });

  it("ends a call whose first token does not come, with code timeout, and aborts the model", async () => {
    const inner = scriptedModel([{ type: "accepted" }, text("late")], [0, 5_000]);
    const result = await collect(new TimedChatModel(inner, { firstTokenMs: 50, idleMs: 0 }));
    expect(result.parts).toEqual([{ type: "accepted" }]);
    expect(result.error).toBeInstanceOf(BrookError);
    expect((result.error as BrookError).code).toBe("timeout");
    expect((result.error as BrookError).message).toMatch(/FIRST_TOKEN_TIMEOUT_MS/);
    expect(inner.aborted()).toBe(true);
  });

  it("ends a call that goes silent mid-answer", async () => {
    const inner = scriptedModel([text("a"), text("b"), text("never")], [0, 5, 5_000]);
    const result = await collect(new TimedChatModel(inner, { firstTokenMs: 0, idleMs: 50 }));
    expect(result.parts).toEqual([text("a"), text("b")]);
    expect((result.error as BrookError).code).toBe("timeout");
    expect((result.error as BrookError).message).toMatch(/IDLE_TIMEOUT_MS/);
    expect(inner.aborted()).toBe(true);
  });

  it("does not count time the consumer spends away (a slow reader is not a silent model)", async () => {
    const model = new TimedChatModel(scriptedModel([text("a"), text("b")], [0, 0]), { firstTokenMs: 30, idleMs: 30 });
    const parts: ModelPart[] = [];
    for await (const batch of model.stream(call())) {
      parts.push(...batch);
      await sleep(100);
    }
    expect(parts).toEqual([text("a"), text("b")]);
  });

  it("reports the caller's own abort as the caller's reason, not as a timeout", async () => {
    const controller = new AbortController();
    const inner = scriptedModel([text("a"), text("b")], [0, 5_000]);
    setTimeout(() => controller.abort(new BrookError("cancelled")), 20);
    const result = await collect(new TimedChatModel(inner, { firstTokenMs: 1_000, idleMs: 1_000 }), controller.signal);
    expect(result.error).not.toMatchObject({ code: "timeout" });
    expect(inner.aborted()).toBe(true);
  });

  describe("with a model that thinks before it answers", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Reasoning every 200 ms for 10 s, then the answer: the model talks all along. */
    function thinker(): ChatModel {
      const pause = (ms: number, signal: AbortSignal) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
      return {
        mode: "openai",
        async *stream(call: ModelCall) {
          yield [{ type: "accepted" }];
          for (let index = 0; index < 50; index += 1) {
            await pause(200, call.signal);
            yield [{ type: "reasoning", text: `step ${index}. ` }];
          }
          await pause(200, call.signal);
          yield [text("answer"), { type: "finish", reason: "stop" }];
        },
      };
    }

    async function run(timeouts: { firstTokenMs: number; idleMs: number }) {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
      const collecting = collect(new TimedChatModel(thinker(), timeouts));
      await vi.advanceTimersByTimeAsync(20_000);
      return collecting;
    }

    it("counts reasoning as output: thinking for longer than the first-token limit is no timeout", async () => {
      const result = await run({ firstTokenMs: 1_000, idleMs: 1_000 });
      expect(result.error).toBeUndefined();
      expect(result.parts.filter((part) => part.type === "reasoning")).toHaveLength(50);
      expect(result.parts.at(-2)).toEqual(text("answer"));
    });

    it("still ends a model that is silent between thoughts for longer than the idle limit", async () => {
      const result = await run({ firstTokenMs: 1_000, idleMs: 150 });
      expect((result.error as BrookError).code).toBe("timeout");
      expect((result.error as BrookError).message).toMatch(/IDLE_TIMEOUT_MS/);
      expect(result.parts).toEqual([{ type: "accepted" }, { type: "reasoning", text: "step 0. " }]);
    });
  });
});
