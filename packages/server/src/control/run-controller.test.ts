import { emptyUsage, type ParsedChatRequest, type TerminalEvent } from "@brook/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import { MemoryRunStore } from "../storage/memory-run-store.js";
import type { RunLog } from "../storage/run-log.js";
import type { RunEnded, RunExecutor } from "./run-control.js";
import { RunController, type RunControllerOptions } from "./run-controller.js";

const usage = emptyUsage;
const request = { message: "hi" } as ParsedChatRequest;
const timing = { ttft_ms: null, duration_ms: 0, tokens_per_s: 0 };

/** Finishes each run at once, or waits for its abort when `hold` is set. */
const executor =
  (hold = false): RunExecutor =>
  async (run) => {
    if (hold) await new Promise((resolve) => run.signal.addEventListener("abort", resolve, { once: true }));
    const terminal: TerminalEvent = run.signal.aborted
      ? errorEvent(run.signal.reason as BrookError, usage)
      : { type: "complete", full_content: "", usage, finish_reason: "stop", timing };
    run.log.append([terminal]);
    return { terminal, timing };
  };

function controller(
  options: Partial<RunControllerOptions> & { retentionMs?: number; retainMax?: number } = {},
  hold = false,
) {
  const store = new MemoryRunStore({ retentionMs: options.retentionMs ?? 60_000, retainMax: options.retainMax ?? 100 });
  const ended: RunEnded[] = [];
  const control = new RunController({
    store,
    execute: executor(hold),
    onUnexpected: (error) => {
      throw error;
    },
    observers: [(run) => ended.push(run)],
    defaultModel: "m",
    graceMs: 60_000,
    bufferEvents: 64,
    ...options,
  });
  return { control, store, ended };
}

/** The run's terminal event, read as a reader would. */
async function terminalOf(log: RunLog): Promise<TerminalEvent> {
  const reader = log.reader(0);
  try {
    for (;;) {
      const events = await reader.read(Number.POSITIVE_INFINITY, new AbortController().signal);
      if (reader.done) return events.at(-1) as TerminalEvent;
    }
  } finally {
    reader.close();
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RunController", () => {
  it("counts active runs, tells observers how each ended, and keeps finished runs readable for late readers", async () => {
    const { control, ended } = controller();
    const run = control.start(request, { kind: "streaming", resumable: true });
    expect(control.activeCount).toBe(1);
    await vi.waitFor(() => expect(control.activeCount).toBe(0));
    expect(await control.find(run.id)).toBe(run.log);
    expect(ended).toEqual([
      expect.objectContaining({ id: run.id, kind: "streaming", model: "m", request, terminal: run.log.terminal }),
    ]);
  });

  it("forgets finished runs after the retention time", async () => {
    const { control, store } = controller({ retentionMs: 20 });
    const run = control.start(request, { kind: "streaming", resumable: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(control.activeCount).toBe(0);
    await vi.advanceTimersByTimeAsync(19);
    expect(await control.find(run.id)).toBeDefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await control.find(run.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("keeps at most retainMax finished runs, dropping the oldest first", async () => {
    const { control, store } = controller({ retainMax: 3 });
    const started = Array.from({ length: 5 }, () => control.start(request, { kind: "non_streaming", resumable: true }));
    await vi.waitFor(() => expect(control.activeCount).toBe(0));
    expect(store.size).toBe(3);
    expect(await control.find(started[0]?.id ?? "")).toBeUndefined();
    expect(await control.find(started[4]?.id ?? "")).toBeDefined();
  });

  it("forgets a run that belongs to its connection as soon as it ends", async () => {
    const { control } = controller();
    const run = control.start(request, { kind: "non_streaming", resumable: false });
    const reader = run.log.reader(0);
    await vi.waitFor(() => expect(control.activeCount).toBe(0));
    reader.close();
    expect(await control.find(run.id)).toBeUndefined();
  });

  it("cancels running runs, and says when a run is finished or unknown", async () => {
    const { control } = controller({}, true);
    const run = control.start(request, { kind: "streaming", resumable: true });
    expect(await control.cancel(run.id)).toBe("cancelled");
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "cancelled" });
    await vi.waitFor(() => expect(control.activeCount).toBe(0));
    expect(await control.cancel(run.id)).toBe("finished");
    expect(await control.cancel("nope")).toBe("not_found");
  });

  it("abortAll ends every running run with the given reason", async () => {
    const { control } = controller({}, true);
    const started = [
      control.start(request, { kind: "streaming", resumable: true }),
      control.start(request, { kind: "streaming", resumable: true }),
    ];
    await control.abortAll(new BrookError("shutdown"));
    for (const run of started) expect(run.log.terminal).toMatchObject({ type: "error", code: "shutdown" });
    expect(control.activeCount).toBe(0);
  });

  it("refuses a run beyond the concurrency cap with overloaded, and takes one again once a slot frees", async () => {
    const { control } = controller({ maxConcurrent: 2 }, true);
    const first = control.start(request, { kind: "streaming", resumable: true });
    control.start(request, { kind: "streaming", resumable: true });
    expect(() => control.start(request, { kind: "streaming", resumable: true })).toThrow(
      expect.objectContaining({ code: "overloaded" }),
    );
    expect(control.activeCount).toBe(2);
    await control.cancel(first.id);
    await vi.waitFor(() => expect(control.activeCount).toBe(1));
    expect(() => control.start(request, { kind: "streaming", resumable: true })).not.toThrow();
    await control.abortAll(new BrookError("shutdown"));
  });

  it("ends a run that outlives MAX_RUN_MS with timeout", async () => {
    const { control } = controller({ maxRunMs: 30 }, true);
    const run = control.start(request, { kind: "streaming", resumable: true });
    await vi.advanceTimersByTimeAsync(29);
    expect(run.log.terminal).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "timeout" });
  });

  it("refuses new runs while draining and tells when the last running one ended", async () => {
    const { control } = controller({}, true);
    const run = control.start(request, { kind: "streaming", resumable: true });
    control.drain();
    expect(control.draining).toBe(true);
    expect(() => control.start(request, { kind: "streaming", resumable: true })).toThrow(
      expect.objectContaining({ code: "shutdown" }),
    );
    let idle = false;
    const waiting = control.idle().then(() => {
      idle = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(idle).toBe(false);
    await control.cancel(run.id);
    await waiting;
    expect(control.activeCount).toBe(0);
  });

  it("aborts a run that belongs to its connection as soon as its reader leaves", async () => {
    const { control } = controller({}, true);
    const run = control.start(request, { kind: "streaming", resumable: false });
    run.log.reader(0).close();
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "cancelled" });
  });

  it("waits for a reader to come back during the grace period, then gives up", async () => {
    const { control } = controller({ graceMs: 30 }, true);
    const run = control.start(request, { kind: "streaming", resumable: true });
    run.log.reader(0).close();
    await vi.advanceTimersByTimeAsync(5);
    const returning = run.log.reader(0);
    await vi.advanceTimersByTimeAsync(60);
    expect(run.log.terminal).toBeUndefined();
    returning.close();
    await vi.advanceTimersByTimeAsync(29);
    expect(run.log.terminal).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "cancelled" });
  });

  it("abandons a resumable run nobody ever reads after the grace period", async () => {
    const { control } = controller({ graceMs: 20 }, true);
    const run = control.start(request, { kind: "streaming", resumable: true });
    await vi.advanceTimersByTimeAsync(20);
    expect(await terminalOf(run.log)).toMatchObject({
      type: "error",
      code: "cancelled",
      error: expect.stringMatching(/reader went away/),
    });
  });

  it("gives a replayable run the grace period once its readers left, then cancels it with one terminal event", async () => {
    const { control, ended } = controller({ graceMs: 20 }, true);
    const run = control.start(request, { kind: "streaming", resumable: true, replayable: true });
    run.log.reader(0).close();
    await vi.advanceTimersByTimeAsync(15);
    // A reader back in time (the AI SDK's resume) keeps it going, however long it stays.
    const returning = run.log.reader(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run.log.terminal).toBeUndefined();
    returning.close();
    await vi.advanceTimersByTimeAsync(19);
    expect(run.log.terminal).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "cancelled", usage });
    await vi.waitFor(() => expect(ended).toHaveLength(1));
    // Still readable from its first event once ended.
    expect((await control.find(run.id))?.reader(0).position).toBe(0);
  });

  it("ends a replayable run that outgrows its byte budget with run_too_large, carrying its usage", async () => {
    const spent = { ...usage, output_tokens: 7, total_tokens: 7, estimated: true };
    const { control, ended } = controller({
      maxBytes: 10_000,
      // A model faster than anyone reads: it appends until the run stops it.
      execute: async (run) => {
        try {
          for (;;) {
            if (!run.log.append([{ type: "content", chunk: "x".repeat(1_000) }])) await run.log.waitForRoom(run.signal);
          }
        } catch (error) {
          const terminal = errorEvent(error as BrookError, spent);
          run.log.append([terminal]);
          return { terminal, timing };
        }
      },
    });
    const run = control.start(request, { kind: "streaming", resumable: true, replayable: true });
    expect(await terminalOf(run.log)).toMatchObject({
      type: "error",
      code: "run_too_large",
      retryable: false,
      usage: spent,
    });
    expect(run.log.terminal).toMatchObject({ error: expect.stringMatching(/RUN_MAX_BYTES/) });
    // Events of 1,064 bytes (text and overhead): the tenth crossed the budget, then the terminal event, nothing more.
    expect(run.log.head).toBe(10 + 1);
    await vi.waitFor(() => expect(ended).toEqual([expect.objectContaining({ terminal: run.log.terminal })]));
  });

  it("ends a run whose executor broke its contract with one internal error, and reports the bug", async () => {
    const bugs: unknown[] = [];
    const { control, ended } = controller({
      execute: async () => {
        throw new Error("a bug");
      },
      onUnexpected: (error) => bugs.push(error),
    });
    const run = control.start(request, { kind: "non_streaming", resumable: true });
    expect(await terminalOf(run.log)).toMatchObject({ type: "error", code: "internal", error: "Internal error." });
    await vi.waitFor(() => expect(ended).toHaveLength(1));
    expect(bugs).toEqual([expect.objectContaining({ message: "a bug" })]);
  });
});
