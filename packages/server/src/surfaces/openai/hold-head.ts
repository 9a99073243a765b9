import { type ChatEvent, isTerminal } from "@brook/shared";
import type { RunLogReader } from "../../storage/run-log.js";

export interface HeldEvents {
  events: ChatEvent[];
  /** One of them shows the caller something (text, a call of its own tool). */
  shown: boolean;
}

/**
 * Reads a run's first events, up to the first the caller sees or the run's end, for at most
 * `maxMs` (past that the stream starts anyway: its pings keep proxies patient). Until then
 * nothing is sent, so a model call refused at once can still answer with its HTTP status.
 * Rejects when `signal` (the client's) aborts.
 */
export async function holdUntilShown(
  reader: RunLogReader,
  callerTools: ReadonlySet<string>,
  signal: AbortSignal,
  maxMs: number,
): Promise<HeldEvents> {
  const held: HeldEvents = { events: [], shown: false };
  // One timer, cleared as soon as the hold ends (AbortSignal.timeout's would live on for maxMs).
  const waited = new AbortController();
  const stopWaiting = () => waited.abort();
  const timer = setTimeout(stopWaiting, maxMs);
  signal.addEventListener("abort", stopWaiting, { once: true });
  try {
    while (!reader.done) {
      const events = await reader.read(Number.POSITIVE_INFINITY, waited.signal);
      held.events.push(...events);
      held.shown = events.some(
        (event) =>
          event.type === "content" ||
          event.type === "reasoning" ||
          (event.type === "tool_call" && callerTools.has(event.name)),
      );
      if (held.shown || events.some(isTerminal)) break;
    }
  } catch (error) {
    if (signal.aborted) throw error;
    // Held long enough: the stream starts with what there is.
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", stopWaiting);
  }
  return held;
}

/** `reader`, handing out `held` first (the events read ahead of the stream). */
export function prepend(held: readonly ChatEvent[], reader: RunLogReader): RunLogReader {
  let pending = held;
  return {
    get position() {
      return reader.position - pending.length;
    },
    get done() {
      return pending.length === 0 && reader.done;
    },
    take(max) {
      if (pending.length === 0) return reader.take(max);
      const events = pending.slice(0, max);
      pending = pending.slice(max);
      return events;
    },
    read(max, signal) {
      return pending.length === 0 ? reader.read(max, signal) : Promise.resolve(this.take(max));
    },
    // A writer listens once it took everything, the held events first.
    ...(reader.listen === undefined ? {} : { listen: (listener) => reader.listen?.(listener) }),
    close: () => reader.close(),
  };
}
