import { randomUUID } from "node:crypto";
import { emptyUsage, type ParsedChatRequest } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { checkRequestLimits, type RequestLimits } from "./request-limits.js";
import { Run, type RunKind } from "./run.js";

export interface RunEngineOptions {
  graceMs: number;
  retentionMs: number;
  retainMax: number;
  bufferEvents: number;
  defaultModel: string;
  /** Runs generating at once; more are refused with `overloaded`. 0: no cap. */
  maxConcurrent?: number;
  /** A run still going after this long is ended with `timeout`. 0: never. */
  maxRunMs?: number;
  /** Field limits checked before a run starts. */
  limits?: RequestLimits;
}

export interface StartOptions {
  kind: RunKind;
  /**
   * A resumable run outlives its connection: it waits the grace period for a reader to return,
   * and stays readable for a while after it ends. Any other run belongs to the connection that
   * started it: it is aborted when that connection closes and forgotten once it ends.
   */
  resumable: boolean;
}

/** Generates a run's events; it must end the run with exactly one terminal event. */
export type RunExecutor = (run: Run, request: ParsedChatRequest) => Promise<void>;

/**
 * Owns every run: starts them, finds them for late readers, cancels them, and forgets
 * finished ones after the retention time (or sooner when too many are kept).
 */
export class RunEngine {
  readonly #runs = new Map<string, Run>();
  /** Finished runs still readable, oldest first. */
  readonly #retained = new Map<string, NodeJS.Timeout>();
  #active = 0;
  #draining = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(
    private readonly options: RunEngineOptions,
    private readonly execute: RunExecutor,
    private readonly onUnexpected: (error: unknown, run: Run) => void,
  ) {}

  get activeCount(): number {
    return this.#active;
  }

  get size(): number {
    return this.#runs.size;
  }

  /** True once shutdown began: no new run starts. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Refuses new runs from now on (code `shutdown`); running ones go on. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves when no run is generating. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  /**
   * Starts a run. Throws (before anything is billed) `shutdown` while draining, `bad_request`
   * beyond the field limits, `overloaded` at the concurrency cap.
   */
  start(request: ParsedChatRequest, options: StartOptions): Run {
    if (this.#draining) throw new BrookError("shutdown");
    if (this.options.limits !== undefined) checkRequestLimits(request, this.options.limits);
    const cap = this.options.maxConcurrent ?? 0;
    if (cap > 0 && this.#active >= cap) {
      throw new BrookError(
        "overloaded",
        `Brook is running ${cap} answers already (MAX_CONCURRENT_RUNS); retry shortly.`,
      );
    }
    const run = new Run({
      id: randomUUID(),
      kind: options.kind,
      model: request.model ?? this.options.defaultModel,
      bufferEvents: this.options.bufferEvents,
      graceMs: options.resumable ? this.options.graceMs : 0,
      resumable: options.resumable,
    });
    this.#runs.set(run.id, run);
    this.#active += 1;
    const maxRunMs = this.options.maxRunMs ?? 0;
    const deadline =
      maxRunMs > 0
        ? setTimeout(
            () => run.abort(new BrookError("timeout", `The run took longer than ${maxRunMs} ms (MAX_RUN_MS).`)),
            maxRunMs,
          )
        : undefined;
    deadline?.unref();
    this.execute(run, request)
      .catch((error: unknown) => this.onUnexpected(error, run))
      .finally(() => {
        clearTimeout(deadline);
        this.#finish(run, options.resumable);
      });
    return run;
  }

  get(id: string): Run | undefined {
    return this.#runs.get(id);
  }

  /** Aborts a running run; its executor then writes the terminal `error` event. */
  cancel(id: string): "cancelled" | "finished" | "not_found" {
    const run = this.#runs.get(id);
    if (run === undefined) return "not_found";
    if (run.terminal !== undefined) return "finished";
    run.abort(new BrookError("cancelled"));
    return "cancelled";
  }

  /** Aborts every running run with `reason` and waits for their terminal events. */
  async abortAll(reason: BrookError): Promise<void> {
    const running = [...this.#runs.values()].filter((run) => run.terminal === undefined);
    for (const run of running) run.abort(reason);
    await Promise.all(running.map((run) => run.finished));
  }

  #finish(run: Run, resumable: boolean): void {
    this.#active -= 1;
    if (this.#active === 0) {
      for (const resolve of this.#idleWaiters) resolve();
      this.#idleWaiters.clear();
    }
    if (run.terminal === undefined) {
      // The executor broke its contract; no reader may hang on this run.
      this.onUnexpected(new Error("run ended without a terminal event"), run);
      const error = new BrookError("internal");
      run.append({
        type: "error",
        error: error.message,
        code: error.code,
        retryable: error.retryable,
        usage: emptyUsage,
      });
    }
    if (!resumable || this.options.retentionMs === 0 || this.options.retainMax === 0) {
      this.#runs.delete(run.id);
      return;
    }
    const timer = setTimeout(() => this.#forget(run.id), this.options.retentionMs);
    timer.unref();
    this.#retained.set(run.id, timer);
    if (this.#retained.size > this.options.retainMax) {
      const oldest = this.#retained.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
  }

  #forget(id: string): void {
    clearTimeout(this.#retained.get(id));
    this.#retained.delete(id);
    this.#runs.delete(id);
  }
}
