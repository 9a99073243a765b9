import type { ParsedChatRequest } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { RunEngine, type RunEngineOptions, type RunExecutor } from "./run-engine.js";

const usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0, total_cost: 0, estimated: false, priced: true };
const request = { message: "hi" } as ParsedChatRequest;

/** Finishes each run at once, or waits for its abort when `hold` is set. */
const executor =
  (hold = false): RunExecutor =>
  async (run) => {
    if (hold) await new Promise((resolve) => run.signal.addEventListener("abort", resolve, { once: true }));
    const reason = run.signal.reason as { code?: string } | undefined;
    run.append(
      run.signal.aborted
        ? {
            type: "error",
            error: "stopped",
            code: (reason?.code ?? "cancelled") as "cancelled",
            retryable: false,
            usage,
          }
        : {
            type: "complete",
            full_content: "",
            usage,
            finish_reason: "stop",
            timing: { ttft_ms: 0, duration_ms: 0, tokens_per_s: 0 },
          },
    );
  };

function engine(options: Partial<RunEngineOptions>, hold = false): RunEngine {
  const defaults = { graceMs: 60_000, retentionMs: 60_000, retainMax: 100, bufferEvents: 64, defaultModel: "m" };
  return new RunEngine({ ...defaults, ...options }, executor(hold), (error) => {
    throw error;
  });
}

describe("RunEngine", () => {
  it("counts active runs and keeps finished runs readable for late readers", async () => {
    const runs = engine({});
    const run = runs.start(request, { kind: "streaming", resumable: true });
    expect(runs.activeCount).toBe(1);
    await run.finished;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.activeCount).toBe(0);
    expect(runs.get(run.id)).toBe(run);
  });

  it("forgets finished runs after the retention time", async () => {
    const runs = engine({ retentionMs: 20 });
    const run = runs.start(request, { kind: "streaming", resumable: true });
    await run.finished;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(runs.get(run.id)).toBeUndefined();
    expect(runs.size).toBe(0);
  });

  it("keeps at most retainMax finished runs, dropping the oldest first", async () => {
    const runs = engine({ retainMax: 3 });
    const started = Array.from({ length: 5 }, () => runs.start(request, { kind: "non_streaming", resumable: true }));
    await Promise.all(started.map((run) => run.finished));
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.size).toBe(3);
    expect(runs.get(started[0]?.id ?? "")).toBeUndefined();
    expect(runs.get(started[4]?.id ?? "")).toBeDefined();
  });

  it("forgets a run that belongs to its connection as soon as it ends", async () => {
    const runs = engine({});
    const run = runs.start(request, { kind: "non_streaming", resumable: false });
    await run.finished;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.get(run.id)).toBeUndefined();
  });

  it("cancels running runs, and says when a run is finished or unknown", async () => {
    const runs = engine({}, true);
    const run = runs.start(request, { kind: "streaming", resumable: true });
    expect(runs.cancel(run.id)).toBe("cancelled");
    expect(await run.finished).toMatchObject({ type: "error", code: "cancelled" });
    expect(runs.cancel(run.id)).toBe("finished");
    expect(runs.cancel("nope")).toBe("not_found");
  });

  it("abortAll ends every running run with the given reason", async () => {
    const runs = engine({}, true);
    const started = [
      runs.start(request, { kind: "streaming", resumable: true }),
      runs.start(request, { kind: "streaming", resumable: true }),
    ];
    await runs.abortAll(new BrookError("shutdown"));
    for (const run of started) expect(run.terminal).toMatchObject({ type: "error", code: "shutdown" });
  });

  it("refuses a run beyond the concurrency cap with overloaded, and takes one again once a slot frees", async () => {
    const runs = engine({ maxConcurrent: 2 }, true);
    const first = runs.start(request, { kind: "streaming", resumable: false });
    runs.start(request, { kind: "streaming", resumable: false });
    expect(() => runs.start(request, { kind: "streaming", resumable: false })).toThrow(
      expect.objectContaining({ code: "overloaded" }),
    );
    expect(runs.activeCount).toBe(2);
    runs.cancel(first.id);
    await first.finished;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.activeCount).toBe(1);
    expect(() => runs.start(request, { kind: "streaming", resumable: false })).not.toThrow();
    await runs.abortAll(new BrookError("shutdown"));
  });

  it("ends a run that outlives MAX_RUN_MS with timeout", async () => {
    const runs = engine({ maxRunMs: 30 }, true);
    const run = runs.start(request, { kind: "streaming", resumable: false });
    expect(await run.finished).toMatchObject({ type: "error", code: "timeout" });
  });

  it("refuses new runs while draining and tells when the last running one ended", async () => {
    const runs = engine({}, true);
    const run = runs.start(request, { kind: "streaming", resumable: false });
    runs.drain();
    expect(() => runs.start(request, { kind: "streaming", resumable: false })).toThrow(
      expect.objectContaining({ code: "shutdown" }),
    );
    let idle = false;
    const waiting = runs.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(idle).toBe(false);
    runs.cancel(run.id);
    await waiting;
    expect(runs.activeCount).toBe(0);
  });
});
