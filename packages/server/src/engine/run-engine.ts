import { randomUUID } from "node:crypto";
import { emptyUsage, type ParsedChatRequest } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { Run, type RunKind } from "./run.js";

export interface RunEngineOptions {
  graceMs: number;
  retentionMs: number;
  retainMax: number;
  bufferEvents: number;
  defaultModel: string;
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

  start(request: ParsedChatRequest, options: StartOptions): Run {
    const run = new Run({
      id: randomUUID(),
      kind: options.kind,
      model: request.model ?? this.options.defaultModel,
      bufferEvents: this.options.bufferEvents,
      graceMs: options.resumable ? this.options.graceMs : 0,
    });
    this.#runs.set(run.id, run);
    this.#active += 1;
    this.execute(run, request)
      .catch((error: unknown) => this.onUnexpected(error, run))
      .finally(() => this.#finish(run, options.resumable));
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
