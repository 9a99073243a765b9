import { MemoryRunLog } from "./memory-run-log.js";
import type { RunLogOptions, RunStore } from "./run-log.js";

export interface RetentionOptions {
  /** How long a finished run stays readable (late readers, resumes). */
  retentionMs: number;
  /** At most this many finished runs are kept; the oldest go first. */
  retainMax: number;
}

/** Runs kept in this process: one Brook, no state shared with other instances. */
export class MemoryRunStore implements RunStore {
  readonly #logs = new Map<string, MemoryRunLog>();
  /** Finished runs still readable, oldest first. */
  readonly #retained = new Map<string, NodeJS.Timeout>();

  constructor(private readonly retention: RetentionOptions) {}

  /** Runs held: running, and finished ones still readable. */
  get size(): number {
    return this.#logs.size;
  }

  create(runId: string, options: RunLogOptions): MemoryRunLog {
    const log = new MemoryRunLog(runId, options);
    this.#logs.set(runId, log);
    return log;
  }

  /** The log this process holds for `runId`, without waiting. */
  get(runId: string): MemoryRunLog | undefined {
    return this.#logs.get(runId);
  }

  find(runId: string): Promise<MemoryRunLog | undefined> {
    return Promise.resolve(this.#logs.get(runId));
  }

  ended(runId: string, retain: boolean): void {
    const { retentionMs, retainMax } = this.retention;
    if (!retain || retentionMs === 0 || retainMax === 0) {
      this.#logs.delete(runId);
      return;
    }
    const timer = setTimeout(() => this.#forget(runId), retentionMs);
    timer.unref();
    this.#retained.set(runId, timer);
    if (this.#retained.size > retainMax) {
      const oldest = this.#retained.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
  }

  async close(): Promise<void> {
    for (const timer of this.#retained.values()) clearTimeout(timer);
    this.#retained.clear();
  }

  #forget(runId: string): void {
    clearTimeout(this.#retained.get(runId));
    this.#retained.delete(runId);
    this.#logs.delete(runId);
  }
}
