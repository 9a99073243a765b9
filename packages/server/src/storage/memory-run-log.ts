import { type ChatEvent, isTerminal, type TerminalEvent } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { eventSize } from "./event-size.js";
import type { RunLogOptions, RunLogReader, RunLogWriter } from "./run-log.js";

/**
 * One run's log in this process: a window of events behind the head. Generation waits
 * (backpressure) rather than drop events a reader has not had yet, and events every reader has
 * taken leave the window, so memory stays bounded however long the answer. Sizes are counted in
 * events and in bytes (`eventSize`), through running totals: O(1) per event.
 */
export class MemoryRunLog implements RunLogWriter {
  readonly runId: string;
  readonly owner: string | undefined;
  #events: ChatEvent[] = [];
  /** Bytes appended before each event of `#events` (running totals, parallel to it). */
  #starts: number[] = [];
  /** seq of `#events[0]`. */
  #offset = 0;
  /** Bytes appended in all, up to the head. */
  #bytes = 0;
  #terminal: TerminalEvent | undefined;
  readonly #readers = new Set<MemoryLogReader>();
  /** Where the last reader was when it left, so generation does not outrun a reader that may return. */
  #parkedPosition = 0;
  #roomWaiter: (() => void) | undefined;
  #presence: ((present: boolean) => void)[] = [];
  #overflow: (() => void)[] = [];
  #overflowed = false;
  readonly #bufferEvents: number;
  readonly #bufferBytes: number;
  /** A reader takes at most this many bytes at once (at least one event): a slow socket holds little. */
  readonly #batchBytes: number;
  readonly #maxBytes: number;
  readonly #resumable: boolean;
  readonly #replayable: boolean;

  constructor(runId: string, options: RunLogOptions) {
    this.runId = runId;
    this.owner = options.owner;
    this.#bufferEvents = options.bufferEvents;
    this.#bufferBytes = options.bufferBytes ?? Number.POSITIVE_INFINITY;
    this.#batchBytes = Math.max(1, Math.floor(this.#bufferBytes / 4));
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#resumable = options.resumable;
    this.#replayable = options.replayable === true;
  }

  get head(): number {
    return this.#offset + this.#events.length;
  }

  get terminal(): TerminalEvent | undefined {
    return this.#terminal;
  }

  get readerCount(): number {
    return this.#readers.size;
  }

  get producerWaiting(): boolean {
    return this.#roomWaiter !== undefined;
  }

  /** Bytes of the events this log keeps now. */
  get keptBytes(): number {
    return this.#bytes - this.#bytesAt(this.#offset);
  }

  append(events: readonly ChatEvent[]): boolean {
    for (const event of events) {
      if (this.#terminal !== undefined) throw new Error(`run ${this.runId} already ended`);
      this.#events.push(event);
      this.#starts.push(this.#bytes);
      this.#bytes += eventSize(event);
      if (isTerminal(event)) this.#terminal = event;
    }
    // A replayable log keeps everything: past its budget the run has to end (the terminal event still goes in).
    if (this.#replayable && !this.#overflowed && this.#terminal === undefined && this.#bytes > this.#maxBytes) {
      this.#overflowed = true;
      for (const listener of this.#overflow) listener();
    }
    this.#trim();
    for (const reader of this.#readers) reader.wake();
    return !this.#full();
  }

  async waitForRoom(signal: AbortSignal): Promise<void> {
    while (this.#full()) {
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

  onPresence(listener: (present: boolean) => void): void {
    this.#presence.push(listener);
  }

  onOverflow(listener: () => void): void {
    this.#overflow.push(listener);
  }

  reader(fromSeq: number): MemoryLogReader {
    if (fromSeq < this.#offset) {
      throw new BrookError("not_found", `Events before ${this.runId}:${this.#offset} are no longer kept.`);
    }
    if (fromSeq > this.head) {
      throw new BrookError("bad_request", `Run ${this.runId} has no event ${fromSeq - 1} yet.`);
    }
    const reader = new MemoryLogReader(this, fromSeq);
    this.#readers.add(reader);
    if (this.#readers.size === 1) for (const listener of this.#presence) listener(true);
    // A reader that joins ahead of a parked position may let waiting generation go on.
    this.#notifyRoom();
    return reader;
  }

  /**
   * @internal Up to `max` events from `seq` on (a copy), within a quarter of `bufferBytes` (at
   * least one), or none when caught up.
   */
  eventsFrom(seq: number, max: number): ChatEvent[] {
    if (seq >= this.head) return [];
    const start = seq - this.#offset;
    let end = Math.min(this.#events.length, start + max);
    const limit = (this.#starts[start] as number) + this.#batchBytes;
    if (this.#bytesAt(this.#offset + end) > limit)
      end = Math.max(start + 1, this.#seqAtBytes(limit + 1) - 1 - this.#offset);
    return this.#events.slice(start, end);
  }

  /** @internal called by a reader */
  detach(reader: MemoryLogReader): void {
    if (!this.#readers.delete(reader)) return;
    this.#parkedPosition = Math.max(this.#parkedPosition, reader.position);
    this.#notifyRoom();
    if (this.#readers.size === 0) for (const listener of this.#presence) listener(false);
  }

  /** @internal called by a reader that advanced */
  advanced(): void {
    this.#notifyRoom();
  }

  /**
   * Readers lag `bufferEvents` or `bufferBytes` behind: generation waits. A replayable log keeps
   * everything anyway: it waits only once past `maxBytes`, for the run to be ended.
   */
  #full(): boolean {
    if (this.#replayable) return this.#overflowed;
    const floor = this.#floor();
    return this.head - floor >= this.#bufferEvents || this.#bytes - this.#bytesAt(floor) >= this.#bufferBytes;
  }

  #floor(): number {
    if (this.#readers.size === 0) return this.#parkedPosition;
    let floor = Number.POSITIVE_INFINITY;
    for (const reader of this.#readers) floor = Math.min(floor, reader.position);
    return floor;
  }

  /** Bytes appended before `seq` (a kept seq, or the head). */
  #bytesAt(seq: number): number {
    return seq >= this.head ? this.#bytes : (this.#starts[seq - this.#offset] as number);
  }

  /** The first kept seq with at least `bytes` appended before it (the head when none): a binary search. */
  #seqAtBytes(bytes: number): number {
    let low = 0;
    let high = this.#starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#starts[middle] as number) < bytes) low = middle + 1;
      else high = middle;
    }
    return this.#offset + low;
  }

  /**
   * Drops events older than the window, in chunks so that trimming stays cheap per event.
   * A resumable run keeps a margin behind the slowest reader: what a reader took may not have
   * reached its client yet (socket buffers), and a resume asks for it again. A run that belongs
   * to one request drops what its reader took.
   */
  #trim(): void {
    if (this.#replayable) return;
    if (!this.#resumable) {
      const floor = this.#floor();
      const taken = floor - this.#offset;
      if (taken < 32 && this.#bytesAt(floor) - this.#bytesAt(this.#offset) < this.#batchBytes) return;
      this.#drop(taken);
      return;
    }
    const overEvents = this.#events.length - this.#bufferEvents;
    const overBytes = this.keptBytes - this.#bufferBytes;
    if (overEvents < Math.max(64, this.#bufferEvents >> 2) && !(overBytes >= this.#bufferBytes / 4)) return;
    const floor = this.#floor();
    // The window: the last `bufferEvents` events and `bufferBytes` bytes; the margin: a quarter of
    // each behind the slowest reader. Whichever reaches further back stays.
    const windowFrom = Math.max(this.head - this.#bufferEvents, this.#seqAtBytes(this.#bytes - this.#bufferBytes));
    const marginFrom = Math.max(
      floor - (this.#bufferEvents >> 2),
      this.#seqAtBytes(this.#bytesAt(floor) - this.#bufferBytes / 4),
    );
    this.#drop(Math.min(windowFrom, marginFrom) - this.#offset);
  }

  #drop(count: number): void {
    if (count <= 0) return;
    this.#events.splice(0, count);
    this.#starts.splice(0, count);
    this.#offset += count;
  }

  #notifyRoom(): void {
    const waiter = this.#roomWaiter;
    if (waiter !== undefined && !this.#full()) {
      this.#roomWaiter = undefined;
      waiter();
    }
  }
}

/** A reader of a log in this process. */
export class MemoryLogReader implements RunLogReader {
  position: number;
  /** A read waiting for events: the log's next append hands them over at once. */
  #pending: { max: number; resolve: (events: ChatEvent[]) => void; reject: (reason: unknown) => void } | undefined;
  /** Told synchronously of every append (see `listen`): a writer that is caught up writes at once. */
  #listener: (() => void) | undefined;
  /** The signal the reader listens to: registered once, not once per wait (listeners are not cheap). */
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #closed = false;

  constructor(
    private readonly log: MemoryRunLog,
    position: number,
  ) {
    this.position = position;
  }

  get done(): boolean {
    return this.log.terminal !== undefined && this.position >= this.log.head;
  }

  read(max: number, signal: AbortSignal): Promise<ChatEvent[]> {
    const events = this.take(max);
    if (events.length > 0 || this.done) return Promise.resolve(events);
    if (signal.aborted) return Promise.reject(signal.reason);
    if (signal !== this.#signal) this.#listen(signal);
    return new Promise((resolve, reject) => {
      this.#pending = { max, resolve, reject };
    });
  }

  take(max: number): ChatEvent[] {
    const events = this.log.eventsFrom(this.position, max);
    if (events.length > 0) {
      this.position += events.length;
      this.log.advanced();
    }
    return events;
  }

  listen(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener = undefined;
    this.#unlisten();
    this.log.detach(this);
  }

  /** @internal The log grew (or ended): a waiting read gets what is there. */
  wake(): void {
    const listener = this.#listener;
    if (listener !== undefined) {
      listener();
      return;
    }
    const pending = this.#pending;
    if (pending === undefined) return;
    const events = this.take(pending.max);
    if (events.length === 0 && !this.done) return;
    this.#pending = undefined;
    pending.resolve(events);
  }

  #listen(signal: AbortSignal): void {
    this.#unlisten();
    const onAbort = () => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(signal.reason);
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
