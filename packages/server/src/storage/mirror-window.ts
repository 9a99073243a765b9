/** A run whose writes to a shared backend wait for the window to close. */
export interface HeldWrites {
  /** The window closed: what the run holds goes now. */
  flushWindow(): void;
}

/**
 * The short window over which runs hold their writes to a shared backend (REDIS_MIRROR_WINDOW_MS):
 * events of one run that come within it go in one call, and one timer closes it for every run at
 * once, so their calls leave together (ioredis sends what one tick asks in one socket write).
 */
export class MirrorWindow {
  #held: HeldWrites[] = [];
  #spare: HeldWrites[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #close = () => this.flush();

  constructor(readonly windowMs: number) {}

  /** Holds `run`'s writes until the window closes (a run asks once per window). */
  hold(run: HeldWrites): void {
    this.#held.push(run);
    if (this.#timer === undefined) this.#timer = setTimeout(this.#close, this.windowMs);
  }

  /** Closes the window now: every run holding writes sends them. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Two lists in turn: a run held again while this one is flushed waits for the next window.
    const held = this.#held;
    this.#held = this.#spare;
    for (const run of held) run.flushWindow();
    held.length = 0;
    this.#spare = held;
  }
}
