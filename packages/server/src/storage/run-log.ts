import type { ChatEvent, TerminalEvent, Usage } from "@brook/shared";

/**
 * Storage of runs: each run is an ordered log of events numbered `seq = 0, 1, 2…`, appended in
 * batches by the instance that produces it and ended by exactly one terminal event. A backend
 * (memory, Redis Streams…) implements `RunStore`; the producer always serves its own readers
 * from memory, so a shared backend only adds the path to readers elsewhere.
 */
export interface RunStore {
  /** Runs this instance holds: running, and finished ones still readable. */
  readonly size: number;
  /** A new log, written by this instance. */
  create(runId: string, options: RunLogOptions): RunLogWriter;
  /** A run's log for readers, wherever it is produced; undefined when unknown or forgotten. */
  find(runId: string): Promise<RunLog | undefined>;
  /** The run ended: it stays readable for the retention time when `retain`, else it is forgotten now. */
  ended(runId: string, retain: boolean): void;
  /** Frees what the store holds (timers, connections). */
  close(): Promise<void>;
}

export interface RunLogOptions {
  /** Events buffered ahead of the slowest reader before the producer is asked to wait. */
  bufferEvents: number;
  /**
   * Bytes (see `eventSize`) buffered ahead of the slowest reader before the producer is asked to
   * wait, whichever of the two bounds comes first. Unbounded when absent.
   */
  bufferBytes?: number;
  /**
   * Readers may come back for what they missed (Last-Event-ID, lastEventId): a margin behind the
   * slowest reader stays. A run that belongs to one request keeps nothing its reader took.
   */
  resumable: boolean;
  /**
   * Every event stays, from seq 0, until the run is forgotten (a reader may start over from the
   * first: the AI SDK's resume), and generation never waits for readers, up to `maxBytes`.
   */
  replayable?: boolean;
  /**
   * The most bytes a replayable log keeps: past them it overflows (see `onOverflow`) and asks the
   * producer to wait until the run is aborted. Unbounded when absent.
   */
  maxBytes?: number;
  /** The identity of the API key that started the run (see ApiKeys.ownerOf); undefined: open to all. */
  owner?: string | undefined;
}

/** What readers see of one run. */
export interface RunLog {
  readonly runId: string;
  /** The identity of the API key that started the run; undefined when it is open to all. */
  readonly owner?: string | undefined;
  /** The next seq to be written. */
  readonly head: number;
  /** The terminal event, once written. */
  readonly terminal: TerminalEvent | undefined;
  /** Readers of this log now, on this instance. */
  readonly readerCount: number;
  /** Bytes (see `eventSize`) of this run's events held on this instance now: its log, what waits to be shared, readers' buffers. */
  readonly keptBytes: number;
  /**
   * A reader that starts at `fromSeq`. Throws `not_found` when those events are no longer kept,
   * `bad_request` for a seq the run has not reached.
   */
  reader(fromSeq: number): RunLogReader;
}

/** The producer's side of one run's log. */
export interface RunLogWriter extends RunLog {
  /**
   * Appends a batch, in order. Returns false when readers lag `bufferEvents` or `bufferBytes`
   * behind, or the log overflowed: the producer then awaits `waitForRoom` before its next batch.
   * A terminal event ends the log (it is always taken, whatever the bounds).
   */
  append(events: readonly ChatEvent[]): boolean;
  /** Resolves once the slowest reader has room again; rejects when `signal` aborts. */
  waitForRoom(signal: AbortSignal): Promise<void>;
  /** True while generation waits for its readers (they lag a whole buffer behind, or the log overflowed). */
  readonly producerWaiting: boolean;
  /** Told each time the run goes from no reader to some, and back (grace periods hang on it). */
  onPresence(listener: (present: boolean) => void): void;
  /**
   * Told once when a replayable log passes `maxBytes`: the run must end. From then on `append`
   * returns false and `waitForRoom` waits for the run's signal.
   */
  onOverflow(listener: () => void): void;
  /** Resolves once readers on other instances can find the run (at once when nothing is shared). */
  readonly visible?: Promise<void>;
  /**
   * Notes what the run has used so far (after each model call), for whoever has to end it if
   * this instance dies. Only stores shared between instances ask for it.
   */
  noteUsage?(usage: Usage): void;
}

/** One reader's position in a run's log. */
export interface RunLogReader {
  /** The seq of the next event this reader hands out. */
  readonly position: number;
  /** True once the reader has taken the terminal event. */
  readonly done: boolean;
  /** The events available now, up to `max` (possibly none), without waiting. */
  take(max: number): ChatEvent[];
  /**
   * The next events, up to `max`, as soon as there is at least one; none only once `done`.
   * Rejects when `signal` aborts.
   */
  read(max: number, signal: AbortSignal): Promise<ChatEvent[]>;
  /**
   * Push instead of `read`: `listener` is called synchronously, inside the producer's append,
   * each time events arrive or the log ends, until it is replaced or cleared (undefined). It
   * takes what is there (`take`) and must not throw. Readers that cannot push leave it out.
   */
  listen?(listener: (() => void) | undefined): void;
  /** Leaves the run (idempotent). */
  close(): void;
}
