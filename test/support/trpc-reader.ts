/**
 * Collects a tRPC subscription of tracked Brook events (`chat.stream`, `chat.events`) for tests:
 * every event with its id and seq, how often the server accepted the subscription (reconnects),
 * and whether it ended with a normal return.
 */
import { type ChatEvent, parseEventId } from "@brook/shared";

export interface TrackedEvent {
  /** The SSE id, `<run_id>:<seq>`. */
  id: string;
  runId: string;
  seq: number;
  event: ChatEvent;
}

/** The observer handed to `subscribe(input, observer)`. */
export interface TrackedObserver {
  onStarted: () => void;
  onData: (tracked: { id: string; data: ChatEvent }) => void;
  onError: (error: unknown) => void;
  onStopped: () => void;
  onComplete: () => void;
}

export interface Reading {
  readonly events: TrackedEvent[];
  /** How many times the server accepted the subscription: 1, plus one per reconnect. */
  readonly started: number;
  /** True once the server ended the stream with a normal return. */
  readonly stopped: boolean;
  /** Resolves with the events when the subscription completes; rejects with its error. */
  readonly done: Promise<TrackedEvent[]>;
  unsubscribe(): void;
}

/**
 * Subscribes through `subscribe` and records what arrives. `onEvent` is called after each event
 * is recorded (e.g. to cut a connection or unsubscribe midway).
 */
export function readTracked(
  subscribe: (observer: TrackedObserver) => { unsubscribe(): void },
  onEvent?: (event: TrackedEvent, reading: Reading) => void,
): Reading {
  const events: TrackedEvent[] = [];
  let started = 0;
  let stopped = false;
  let resolveDone!: (events: TrackedEvent[]) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<TrackedEvent[]>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A test that expects a failure awaits `done` itself; never leave an unhandled rejection behind.
  done.catch(() => {});
  let subscription: { unsubscribe(): void } | undefined;
  const reading: Reading = {
    events,
    get started() {
      return started;
    },
    get stopped() {
      return stopped;
    },
    done,
    unsubscribe: () => subscription?.unsubscribe(),
  };
  subscription = subscribe({
    onStarted: () => {
      started += 1;
    },
    onData: (tracked) => {
      const id = parseEventId(tracked.id);
      if (id === undefined) throw new Error(`not a Brook event id: ${tracked.id}`);
      const event: TrackedEvent = { id: tracked.id, runId: id.runId, seq: id.seq, event: tracked.data };
      events.push(event);
      onEvent?.(event, reading);
    },
    onError: (error) => rejectDone(error),
    onStopped: () => {
      stopped = true;
    },
    onComplete: () => resolveDone(events),
  });
  return reading;
}

/** The text of all content events. */
export function trackedContent(events: readonly TrackedEvent[]): string {
  return events.map(({ event }) => (event.type === "content" ? event.chunk : "")).join("");
}

/** The fake upstream's `tokens: n` text: "tok0 tok1 … tok<n-1>". */
export function fakeTokens(count: number): string {
  return Array.from({ length: count }, (_, i) => `tok${i}`).join(" ");
}
