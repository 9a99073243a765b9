import { type ChatEvent, isTerminal, type TerminalEvent } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";

export type RunKind = "streaming" | "non_streaming";

export interface RunOptions {
  id: string;
  kind: RunKind;
  model: string;
  /** Events buffered ahead of the slowest reader before `append` asks the producer to wait. */
  bufferEvents: number;
  /** How long the run waits for a reader to return once all left; 0 aborts at once. */
  graceMs: number;
  /**
   * Readers may come back for what they missed (Last-Event-ID, lastEventId): a margin of events
   * behind the slowest reader stays. A run that belongs to one request keeps nothing behind it.
   * Default: true.
   */
  resumable?: boolean | undefined;
}

/**
 * One chat request: an AbortController and an ordered event log (seq 0, 1, 2, …).
 * Generation appends; readers attach at any seq and read without calling the model again.
 * The log keeps a window of `bufferEvents` behind the head; generation waits (backpressure)
 * rather than drop events a reader has not had yet.
 */
export class Run {
  readonly id: string;
  readonly kind: RunKind;
  readonly model: string;
  readonly startedAt = performance.now();
  readonly controller = new AbortController();
  readonly finished: Promise<TerminalEvent>;

  #events: ChatEvent[] = [];
  /** seq of `#events[0]`. */
  #offset = 0;
  #terminal: TerminalEvent | undefined;
  #resolveFinished!: (event: TerminalEvent) => void;
  #readers = new Set<RunReader>();
  /** Where the last reader was when it left, so generation does not outrun a reader that may return. */
  #parkedPosition = 0;
  #graceTimer: NodeJS.Timeout | undefined;
  #roomWaiter: (() => void) | undefined;
  readonly #bufferEvents: number;
  readonly #graceMs: number;
  readonly #resumable: boolean;

  constructor(options: RunOptions) {
    this.id = options.id;
    this.kind = options.kind;
    this.model = options.model;
    this.#bufferEvents = options.bufferEvents;
    this.#graceMs = options.graceMs;
    this.#resumable = options.resumable ?? true;
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
    // A resumable run may never be claimed (chat.start without chat.events). A run that belongs
    // to a request (grace 0) gets its reader in the same tick.
    if (this.#graceMs > 0) this.#startGrace();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The next seq to be written. */
  get head(): number {
    return this.#offset + this.#events.length;
  }

  get terminal(): TerminalEvent | undefined {
    return this.#terminal;
  }

  get readerCount(): number {
    return this.#readers.size;
  }

  abort(reason: BrookError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /**
   * Appends an event. Returns false when readers lag `bufferEvents` behind: the producer should
   * then `await waitForRoom(signal)` before the next append. The terminal event is always accepted.
   */
  append(event: ChatEvent): boolean {
    if (this.#terminal !== undefined) throw new Error(`run ${this.id} already ended`);
    this.#events.push(event);
    if (isTerminal(event)) {
      this.#terminal = event;
      this.#clearGrace();
      this.#resolveFinished(event);
    }
    this.#trim();
    for (const reader of this.#readers) reader.wake();
    return this.head - this.#floor() < this.#bufferEvents;
  }

  async waitForRoom(signal: AbortSignal): Promise<void> {
    while (this.head - this.#floor() >= this.#bufferEvents) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        this.#roomWaiter = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  /**
   * Attaches a reader that starts at `fromSeq`. Throws `not_found` when those events have
   * already left the window, `bad_request` for a seq the run has not reached.
   */
  attach(fromSeq: number): RunReader {
    if (fromSeq < this.#offset) {
      throw new BrookError("not_found", `Events before ${this.id}:${this.#offset} are no longer kept.`);
    }
    if (fromSeq > this.head) {
      throw new BrookError("bad_request", `Run ${this.id} has no event ${fromSeq - 1} yet.`);
    }
    const reader = new RunReader(this, fromSeq);
    this.#readers.add(reader);
    this.#clearGrace();
    // A reader that joins ahead of a parked position may let waiting generation go on.
    this.#notifyRoom();
    return reader;
  }

  /** Up to `max` events from `seq` on (a copy), or none when the reader is caught up. */
  eventsFrom(seq: number, max: number): ChatEvent[] {
    if (seq >= this.head) return [];
    const start = seq - this.#offset;
    return this.#events.slice(start, start + max);
  }

  /** The event at `seq`, if written and still kept. */
  eventAt(seq: number): ChatEvent | undefined {
    return this.#events[seq - this.#offset];
  }

  /** @internal called by RunReader */
  detach(reader: RunReader): void {
    if (!this.#readers.delete(reader)) return;
    this.#parkedPosition = Math.max(this.#parkedPosition, reader.position);
    this.#notifyRoom();
    if (this.#readers.size === 0 && this.#terminal === undefined) this.#startGrace();
  }

  /** @internal called by RunReader when it advanced */
  advanced(): void {
    this.#notifyRoom();
  }

  /** All events of the run, in order, until its terminal event: for folding and for tests. */
  async *events(fromSeq: number, signal: AbortSignal): AsyncGenerator<[seq: number, event: ChatEvent]> {
    const reader = this.attach(fromSeq);
    try {
      for (;;) {
        // One at a time: a reader's position is what it handed on, so a resume after a drop
        // finds everything the client may have missed.
        const seq = reader.position;
        const event = reader.takeOne();
        if (event !== undefined) yield [seq, event];
        else if (reader.done) return;
        else await reader.wait(signal);
      }
    } finally {
      reader.close();
    }
  }

  #floor(): number {
    if (this.#readers.size === 0) return this.#parkedPosition;
    let floor = Number.POSITIVE_INFINITY;
    for (const reader of this.#readers) floor = Math.min(floor, reader.position);
    return floor;
  }

  /**
   * Drops events older than the window, in chunks so that trimming stays cheap per event.
   * A resumable run keeps a margin behind the slowest reader: what a reader took may not have
   * reached its client yet (socket buffers), and a resume asks for it again. A run that belongs
   * to one request drops what its reader took.
   */
  #trim(): void {
    if (!this.#resumable) {
      const taken = this.#floor() - this.#offset;
      if (taken < 32) return;
      this.#events.splice(0, taken);
      this.#offset += taken;
      return;
    }
    const excess = this.#events.length - this.#bufferEvents;
    if (excess < Math.max(64, this.#bufferEvents >> 2)) return;
    const keepFrom = Math.min(excess, this.#floor() - (this.#bufferEvents >> 2) - this.#offset);
    if (keepFrom <= 0) return;
    this.#events.splice(0, keepFrom);
    this.#offset += keepFrom;
  }

  #notifyRoom(): void {
    const waiter = this.#roomWaiter;
    if (waiter !== undefined && this.head - this.#floor() < this.#bufferEvents) {
      this.#roomWaiter = undefined;
      waiter();
    }
  }

  #startGrace(): void {
    if (this.#graceTimer !== undefined || this.#terminal !== undefined) return;
    const abandon = () =>
      this.abort(new BrookError("cancelled", "The run was cancelled: its reader went away and did not come back."));
    if (this.#graceMs === 0) {
      abandon();
      return;
    }
    this.#graceTimer = setTimeout(abandon, this.#graceMs);
    this.#graceTimer.unref();
  }

  #clearGrace(): void {
    if (this.#graceTimer === undefined) return;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
  }
}

/** A reader's position in a run's log. */
export class RunReader {
  position: number;
  #wake: (() => void) | undefined;
  #fail: ((reason: unknown) => void) | undefined;
  /** The signal the reader listens to: registered once, not once per wait (listeners are not cheap). */
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #closed = false;

  constructor(
    private readonly run: Run,
    position: number,
  ) {
    this.position = position;
  }

  /** True once the reader has taken the terminal event. */
  get done(): boolean {
    return this.run.terminal !== undefined && this.position >= this.run.head;
  }

  /** Takes up to `max` events available now (possibly none) and advances past them. */
  take(max = Number.POSITIVE_INFINITY): ChatEvent[] {
    const events = this.run.eventsFrom(this.position, max);
    if (events.length > 0) {
      this.position += events.length;
      this.run.advanced();
    }
    return events;
  }

  /** Takes the next event if one is available, without allocating a batch. */
  takeOne(): ChatEvent | undefined {
    if (this.position >= this.run.head) return undefined;
    const event = this.run.eventAt(this.position);
    this.position += 1;
    this.run.advanced();
    return event;
  }

  /** Resolves when events are available or the run ended; rejects when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.position < this.run.head || this.run.terminal !== undefined) return Promise.resolve();
    signal.throwIfAborted();
    if (signal !== this.#signal) this.#listen(signal);
    return new Promise<void>((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    });
  }

  /** @internal */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    this.#fail = undefined;
    wake?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.run.detach(this);
  }

  #listen(signal: AbortSignal): void {
    this.#unlisten();
    const onAbort = () => {
      const fail = this.#fail;
      this.#wake = undefined;
      this.#fail = undefined;
      fail?.(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    this.#signal = signal;
    this.#onAbort = onAbort;
  }

  #unlisten(): void {
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#signal = undefined;
    this.#onAbort = undefined;
  }
}
