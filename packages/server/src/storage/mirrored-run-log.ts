import { type ChatEvent, emptyUsage, isTerminal, type TerminalEvent, type Usage } from "@brook/shared";
import { eventSize } from "./event-size.js";
import type { MemoryRunLog } from "./memory-run-log.js";
import type { HeldWrites, MirrorWindow } from "./mirror-window.js";
import type { RunLogReader, RunLogWriter } from "./run-log.js";

/** Events of a run waiting for the backend (while one call is on its way) before generation waits for it. */
const maxPendingEvents = 4_096;

/** How long a reader elsewhere counts as present after its last heartbeat (see `remoteReader`). */
export const heartbeatValidMs = 3_000;

/** The usage of a run whose producer vanished before it said what it used. */
export const unknownUsage: Usage = { ...emptyUsage, estimated: true };

/**
 * What a shared backend provides for one run produced here (the producer's side of the seam).
 * Redis implements it with one scripted round trip per batch (`redis/redis-run-store.ts`).
 */
export interface RunMirror {
  /** Makes the run findable elsewhere (its producer, its owner) and takes the producer's lease. */
  register(): Promise<void>;
  /**
   * Appends one batch whose first event is `first`; a terminal batch ends the run there, starts
   * its retention and drops the lease, and readers elsewhere are woken. Resolves to 1 when
   * appended, 0 when the run had already ended there, -1 when the backend lost it.
   */
  append(first: number, events: readonly ChatEvent[], terminal: boolean): Promise<number>;
  /** What the run used so far, for whoever has to end it if this instance dies. */
  noteUsage(usage: Usage): void;
  /** The copy broke: the run goes on here only (say so once). */
  broke(reason: string): void;
}

/**
 * A run produced here: read from memory, mirrored to a shared backend batch by batch. With a
 * `window`, events wait for it to close and go together; a terminal event goes at once. While no
 * reader on another instance follows the run, they wait for `unwatchedWindow` instead (longer:
 * nobody elsewhere waits for them); the first heartbeat of such a reader sends what waits at once.
 */
export class MirroredRunLog implements RunLogWriter, HeldWrites {
  readonly visible: Promise<void>;
  /** Events appended while a batch is on its way to the backend: they go together, in the next call. */
  #pending: ChatEvent[] = [];
  /** The seq of `#pending[0]`. */
  #pendingFrom = 0;
  /** Bytes of `#pending` (see `eventSize`). */
  #pendingBytes = 0;
  /** Pending bytes before generation waits for the backend. */
  readonly #maxPendingBytes: number;
  #sending = false;
  /** True while `#pending` waits for the window to close. */
  #held = false;
  /** Told each time a call to the backend is answered. */
  #answered: (() => void)[] = [];
  #broken = false;
  #usage: Usage | undefined;
  /** Instances with readers of this run, and until when their last heartbeat counts. */
  readonly #remoteReaders = new Map<string, number>();
  #presentNow = false;
  /** A reader on another instance follows the run: its events use the short window. */
  #watched = false;
  readonly #presence: ((present: boolean) => void)[] = [];
  #expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly memory: MemoryRunLog,
    private readonly mirror: RunMirror,
    maxPendingBytes = Number.POSITIVE_INFINITY,
    private readonly window?: MirrorWindow,
    private readonly unwatchedWindow: MirrorWindow | undefined = window,
  ) {
    this.#maxPendingBytes = maxPendingBytes;
    this.visible = mirror.register().catch((error: unknown) => this.#break(error));
    memory.onPresence(() => this.#updatePresence());
  }

  get runId(): string {
    return this.memory.runId;
  }

  get owner(): string | undefined {
    return this.memory.owner;
  }

  get head(): number {
    return this.memory.head;
  }

  get terminal(): TerminalEvent | undefined {
    return this.memory.terminal;
  }

  get readerCount(): number {
    return this.memory.readerCount;
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Bytes held for the run here: its log, and what waits for the backend. */
  get keptBytes(): number {
    return this.memory.keptBytes + this.#pendingBytes;
  }

  /** What the run has used so far, as the agent loop last noted it. */
  get usage(): Usage {
    return this.#usage ?? unknownUsage;
  }

  reader(fromSeq: number): RunLogReader {
    return this.memory.reader(fromSeq);
  }

  append(events: readonly ChatEvent[]): boolean {
    const first = this.memory.head;
    const room = this.memory.append(events);
    if (this.#broken) return room;
    if (this.#pending.length === 0) this.#pendingFrom = first;
    for (const event of events) {
      this.#pending.push(event);
      this.#pendingBytes += eventSize(event);
    }
    if (this.#sending) return room && !this.#pendingFull();
    const window = this.#watched ? this.window : this.unwatchedWindow;
    if (window === undefined || this.#pendingFull() || this.memory.terminal !== undefined) this.#send();
    else if (!this.#held) {
      this.#held = true;
      window.hold(this);
    }
    return room && !this.#pendingFull();
  }

  /** The window closed: what waits for it goes (unless a call is on its way: it goes after). */
  flushWindow(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.#sending && !this.#broken && this.#pending.length > 0) this.#send();
  }

  get producerWaiting(): boolean {
    return this.memory.producerWaiting;
  }

  async waitForRoom(signal: AbortSignal): Promise<void> {
    await this.memory.waitForRoom(signal);
    while (this.#pendingFull() && !this.#broken) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        this.#answered.push(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  }

  noteUsage(usage: Usage): void {
    this.#usage = usage;
    if (!this.#broken) this.mirror.noteUsage(usage);
  }

  onPresence(listener: (present: boolean) => void): void {
    this.#presence.push(listener);
  }

  onOverflow(listener: () => void): void {
    this.memory.onOverflow(listener);
  }

  /** A heartbeat (or a goodbye) from an instance whose readers read this run. */
  remoteReader(instanceId: string, present: boolean): void {
    if (present) this.#remoteReaders.set(instanceId, Date.now() + heartbeatValidMs);
    else this.#remoteReaders.delete(instanceId);
    this.#updatePresence();
  }

  /** Resolves once everything appended has reached the backend (or the copy there broke); nothing waits for the window. */
  async settled(): Promise<void> {
    this.flushWindow();
    while (this.#sending) await new Promise<void>((resolve) => this.#answered.push(resolve));
  }

  /**
   * One call to the backend at a time per run, with every batch appended since the last one: when
   * the backend answers at once, each batch goes on its own; under load, batches travel together.
   */
  #send(): void {
    this.#held = false;
    const events = this.#pending;
    const first = this.#pendingFrom;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#sending = true;
    const answered = (failure?: unknown) => {
      if (failure !== undefined) this.#break(failure);
      this.#sending = false;
      if (this.#broken) {
        this.#pending = [];
        this.#pendingBytes = 0;
      } else if (this.#pending.length > 0) this.#send();
      for (const wake of this.#answered.splice(0)) wake();
    };
    this.mirror.append(first, events, isTerminal(events.at(-1) as ChatEvent)).then(
      (outcome) =>
        answered(
          outcome === 1 ? undefined : outcome === 0 ? "the run was ended there meanwhile" : "the backend lost it",
        ),
      (error: unknown) => answered(error),
    );
  }

  /** the backend lags `maxPendingEvents` events or `bufferBytes` bytes behind: generation waits. */
  #pendingFull(): boolean {
    return this.#pending.length >= maxPendingEvents || this.#pendingBytes >= this.#maxPendingBytes;
  }

  #break(reason: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.mirror.broke(reason instanceof Error ? reason.message : String(reason));
  }

  #updatePresence(): void {
    const now = Date.now();
    let until = 0;
    for (const [instance, validUntil] of this.#remoteReaders) {
      if (validUntil <= now) this.#remoteReaders.delete(instance);
      else until = Math.max(until, validUntil);
    }
    clearTimeout(this.#expiry);
    if (until > 0) {
      this.#expiry = setTimeout(() => this.#updatePresence(), until - now);
      this.#expiry.unref();
    }
    const watched = until > 0;
    if (watched !== this.#watched) {
      this.#watched = watched;
      // A reader elsewhere waits for what the longer window holds: it goes now.
      if (watched && this.window !== this.unwatchedWindow) this.flushWindow();
    }
    const present = this.memory.readerCount > 0 || until > 0;
    if (present === this.#presentNow) return;
    this.#presentNow = present;
    for (const listener of this.#presence) listener(present);
  }
}
