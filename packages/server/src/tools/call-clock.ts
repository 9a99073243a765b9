/**
 * A tool call's own time (TOOL_TIMEOUT_MS), which stops while a person answers the server's
 * question: `signal` aborts once the call has used `timeoutMs` outside those pauses.
 */
export class CallClock {
  readonly #controller = new AbortController();
  #remaining: number;
  #since = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #pauses = 0;

  constructor(timeoutMs: number) {
    this.#remaining = timeoutMs;
    this.#start();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  /** A person is asked (true) or has answered (false); several questions may overlap. */
  pause(paused: boolean): void {
    if (this.expired) return;
    if (paused) {
      this.#pauses += 1;
      if (this.#pauses > 1) return;
      clearTimeout(this.#timer);
      this.#remaining -= performance.now() - this.#since;
    } else {
      this.#pauses -= 1;
      if (this.#pauses === 0) this.#start();
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #start(): void {
    this.#since = performance.now();
    this.#timer = setTimeout(() => this.#controller.abort(), Math.max(0, this.#remaining));
    this.#timer.unref();
  }
}
