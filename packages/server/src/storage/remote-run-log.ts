import { type ChatEvent, isTerminal, type TerminalEvent } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import { eventSize } from "./event-size.js";
import { unknownUsage } from "./mirrored-run-log.js";
import type { RunLog, RunLogReader } from "./run-log.js";

/**
 * What a shared backend provides for reading one run produced by another instance (the readers'
 * side of the seam). Redis reads the run's stream and wakes followers by pub/sub.
 */
export interface RunSource {
  /** Events from `fromSeq` on (at most `max`; all when infinite), as far as the backend has them. */
  fetch(fromSeq: number, max: number): Promise<ChatEvent[]>;
  /**
   * Starts waking `view` (`view.wake()`) each time the run gets new events; resolves once every
   * event appended from then on wakes it (the view reads the backend only after that).
   */
  follow(view: RemoteRunLog): Promise<void>;
  /** Stops waking `view`. */
  unfollow(view: RemoteRunLog): void;
  /** Tells the producing instance that this one's readers read the run (or no longer). */
  tellProducer(producer: string, present: boolean): void;
  /** Ends the run with one `interrupted` event when its producer no longer holds its lease. */
  endIfLost(): Promise<void>;
}

/**
 * How long a reader may wait for the seq it resumes from to reach the backend: its producer may
 * still hold the events before it (REDIS_MIRROR_WINDOW_MS, a call on its way). Past it, the seq is
 * one the run never reached.
 */
export const unwrittenSeqMs = 5_000;

/** A run produced by another instance, as this one's readers see it. */
export class RemoteRunLog implements RunLog {
  readonly #readers = new Set<RemoteLogReader>();
  /** Until the backend wakes this view for every new event (see `RunSource.follow`). */
  #following: Promise<void> | undefined;
  #terminal: TerminalEvent | undefined;
  #head: number;
  /** Ticks since the run last moved, while readers wait. */
  #quietTicks = 0;

  constructor(
    readonly runId: string,
    readonly owner: string | undefined,
    head: number,
    terminal: TerminalEvent | undefined,
    private readonly producer: string | null,
    private readonly source: RunSource,
  ) {
    this.#head = head;
    this.#terminal = terminal;
  }

  get head(): number {
    return this.#head;
  }

  get terminal(): TerminalEvent | undefined {
    return this.#terminal;
  }

  get readerCount(): number {
    return this.#readers.size;
  }

  /** What its readers fetched and have not handed out yet (counted when asked: off the hot path). */
  get keptBytes(): number {
    let bytes = 0;
    for (const reader of this.#readers) bytes += reader.bufferedBytes;
    return bytes;
  }

  /**
   * A reader from `fromSeq`. While the run goes on, a seq past what the backend holds is taken: a
   * reader that saw it on the producing instance resumes here before the producer's last events
   * reach the backend; the reader checks it there (see `RemoteLogReader.read`).
   */
  reader(fromSeq: number): RunLogReader {
    if (fromSeq > this.#head && this.#terminal !== undefined) throw noEventYet(this.runId, fromSeq);
    const reader = new RemoteLogReader(this, fromSeq);
    this.#readers.add(reader);
    if (this.#readers.size === 1 && this.#terminal === undefined) {
      this.#following = this.source.follow(this);
      if (this.producer !== null) this.source.tellProducer(this.producer, true);
    }
    return reader;
  }

  /** @internal Events from `fromSeq` on, as far as the backend has them; notes the head and the end. */
  async fetch(fromSeq: number, max: number): Promise<ChatEvent[]> {
    const following = this.#following;
    if (following !== undefined) {
      await following;
      this.#following = undefined;
    }
    const events = await this.source.fetch(fromSeq, max);
    if (events.length > 0) {
      this.#quietTicks = 0;
      this.#head = Math.max(this.#head, fromSeq + events.length);
      const last = events.at(-1) as ChatEvent;
      if (isTerminal(last)) {
        this.#terminal = last;
        this.#stopFollowing();
      }
    }
    return events;
  }

  /** @internal New events were appended (pub/sub), or it is time to look again. */
  wake(): void {
    for (const reader of this.#readers) reader.wake();
  }

  /** @internal Once a tick while readers wait: the producer learns of them; a lost producer is noticed. */
  heartbeat(): void {
    if (this.#readers.size === 0 || this.#terminal !== undefined) return;
    if (this.producer !== null) this.source.tellProducer(this.producer, true);
    this.#quietTicks += 1;
    // Quiet for a while: a missed notification is caught, and a producer without a lease is noticed.
    if (this.#quietTicks >= 2) {
      this.source.endIfLost().then(
        () => this.wake(),
        () => this.wake(),
      );
    }
  }

  /** @internal */
  detach(reader: RemoteLogReader): void {
    if (!this.#readers.delete(reader) || this.#readers.size > 0) return;
    this.#stopFollowing();
    if (this.producer !== null && this.#terminal === undefined) this.source.tellProducer(this.producer, false);
  }

  stop(): void {
    for (const reader of this.#readers) reader.wake();
    this.#stopFollowing();
  }

  #stopFollowing(): void {
    this.#following = undefined;
    this.source.unfollow(this);
  }
}

function noEventYet(runId: string, fromSeq: number): BrookError {
  return new BrookError("bad_request", `Run ${runId} has no event ${fromSeq - 1} yet.`);
}

/** A reader of another instance's run: it reads the backend, and waits for a notification when caught up. */
export class RemoteLogReader implements RunLogReader {
  position: number;
  #buffer: ChatEvent[] = [];
  #done = false;
  #wake: (() => void) | undefined;
  /** For a reader that starts past what the backend holds: until when it may wait for its seq. */
  #unwrittenUntil: number | undefined;

  constructor(
    private readonly log: RemoteRunLog,
    position: number,
  ) {
    this.position = position;
    if (position > log.head) this.#unwrittenUntil = Date.now() + unwrittenSeqMs;
  }

  get done(): boolean {
    return this.#done;
  }

  /** @internal */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const event of this.#buffer) bytes += eventSize(event);
    return bytes;
  }

  take(max: number): ChatEvent[] {
    const events = this.#buffer.splice(0, max);
    this.position += events.length;
    if (events.length > 0 && isTerminal(events.at(-1) as ChatEvent)) this.#done = true;
    return events;
  }

  async read(max: number, signal: AbortSignal): Promise<ChatEvent[]> {
    for (;;) {
      if (this.#buffer.length > 0 || this.#done) return this.take(max);
      signal.throwIfAborted();
      // Armed before fetching: a notification that comes meanwhile is not lost.
      const woken = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      let fetched: ChatEvent[];
      try {
        fetched =
          this.#unwrittenUntil === undefined
            ? await this.log.fetch(this.position + this.#buffer.length, max)
            : await this.#fetchUnwritten(max);
      } catch (error) {
        if (error instanceof BrookError && error.code === "bad_request") throw error;
        // The backend went away: this reader cannot follow the run any more, and says so once.
        const message = error instanceof Error ? error.message : String(error);
        fetched = [errorEvent(new BrookError("unavailable", undefined, { cause: message }), unknownUsage)];
      }
      if (fetched.length > 0) {
        this.#buffer.push(...fetched);
        continue;
      }
      await untilAborted(woken, signal);
    }
  }

  close(): void {
    this.#wake?.();
    this.log.detach(this);
  }

  /**
   * Reads on from the backend's head until it reaches this reader's seq, handing out nothing
   * before it: the events come in order, once. A seq the run ends before, or does not reach in
   * `unwrittenSeqMs`, was never written: `bad_request`.
   */
  async #fetchUnwritten(max: number): Promise<ChatEvent[]> {
    const from = this.log.head;
    const events = await this.log.fetch(from, Math.max(max, this.position - from));
    if (this.log.head >= this.position) {
      this.#unwrittenUntil = undefined;
      return events.slice(this.position - from);
    }
    if (this.log.terminal !== undefined || Date.now() > (this.#unwrittenUntil as number)) {
      throw noEventYet(this.log.runId, this.position);
    }
    return [];
  }

  /** @internal */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
