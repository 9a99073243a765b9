import { emptyUsage, type ParsedChatRequest, type TerminalEvent } from "@brook/shared";
import { describe, expect, it, vi } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import { MemoryRunStore } from "../storage/memory-run-store.js";
import { visibleTo } from "./run-control.js";
import { RunController } from "./run-controller.js";

const request = { message: "hi" } as ParsedChatRequest;
const timing = { ttft_ms: null, duration_ms: 0, tokens_per_s: 0 };

/** Runs that go on until they are aborted. */
function holdingController(maxPerOwner = 0, maxConcurrent = 0) {
  return new RunController({
    store: new MemoryRunStore({ retentionMs: 60_000, retainMax: 100 }),
    execute: async (run) => {
      await new Promise((resolve) => run.signal.addEventListener("abort", resolve, { once: true }));
      const terminal: TerminalEvent = errorEvent(run.signal.reason as BrookError, emptyUsage);
      run.log.append([terminal]);
      return { terminal, timing };
    },
    onUnexpected: (error) => {
      throw error;
    },
    defaultModel: "m",
    graceMs: 60_000,
    bufferEvents: 64,
    maxPerOwner,
    maxConcurrent,
  });
}

describe("runs and the keys that start them", () => {
  it("finds and cancels a run for its own key only; another key is told it does not exist", async () => {
    const control = holdingController();
    const run = control.start(request, { kind: "streaming", resumable: true, owner: "alice" });
    expect(await control.find(run.id, "mallory")).toBeUndefined();
    expect(await control.cancel(run.id, "mallory")).toBe("not_found");
    expect(run.log.terminal).toBeUndefined();
    expect(await control.find(run.id, "alice")).toBe(run.log);
    expect(await control.cancel(run.id, "alice")).toBe("cancelled");
    await control.idle();
    // Finished and kept for late readers: still the owner's only.
    expect(await control.find(run.id, "mallory")).toBeUndefined();
    expect(await control.cancel(run.id, "mallory")).toBe("not_found");
    expect(await control.cancel(run.id, "alice")).toBe("finished");
  });

  it("leaves runs open to all when keys are off", async () => {
    const control = holdingController();
    const run = control.start(request, { kind: "streaming", resumable: true });
    expect(await control.find(run.id, undefined)).toBe(run.log);
    expect(await control.find(run.id, "anyone")).toBe(run.log);
    expect(await control.cancel(run.id, undefined)).toBe("cancelled");
    expect(visibleTo("alice", undefined)).toBe(true);
    expect(visibleTo(undefined, "alice")).toBe(true);
    expect(visibleTo("alice", "bob")).toBe(false);
  });

  it("refuses a key's run beyond MAX_RUNS_PER_KEY with too_many_runs while other keys go on", async () => {
    const control = holdingController(2, 10);
    const first = control.start(request, { kind: "streaming", resumable: true, owner: "alice" });
    control.start(request, { kind: "streaming", resumable: true, owner: "alice" });
    let refusal: unknown;
    try {
      control.start(request, { kind: "streaming", resumable: true, owner: "alice" });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(BrookError);
    expect(refusal).toMatchObject({ code: "too_many_runs", status: 429, retryable: true });
    expect((refusal as BrookError).message).toContain("MAX_RUNS_PER_KEY");
    expect(control.activeCount).toBe(2);
    // Another key, and runs without a key, are not held back by Alice's runs.
    control.start(request, { kind: "streaming", resumable: true, owner: "bob" });
    control.start(request, { kind: "streaming", resumable: true });
    control.start(request, { kind: "streaming", resumable: true });
    expect(control.activeCount).toBe(5);
    // A slot of Alice's frees when one of her runs ends.
    await control.cancel(first.id, "alice");
    await vi.waitFor(() => expect(control.activeCount).toBe(4));
    expect(() => control.start(request, { kind: "streaming", resumable: true, owner: "alice" })).not.toThrow();
    await control.abortAll(new BrookError("shutdown"));
  });
});
