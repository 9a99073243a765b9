import { type ChatEvent, formatEventId } from "@brook/shared";
import { type TrackedEnvelope, tracked } from "@trpc/server";
import type { RunLog, RunLogReader } from "../../storage/run-log.js";
import { trpcErrorOf } from "./trpc.js";

/**
 * What the subscriptions `chat.stream` and `chat.events` return: a run to read from `fromSeq` on.
 * tRPC's adapter iterates it as tracked events; Brook's own SSE route (subscription-route.ts)
 * takes its reader and writes the run in batches.
 */
export class RunSubscription implements AsyncIterable<TrackedEnvelope<ChatEvent>> {
  constructor(
    readonly log: RunLog,
    readonly fromSeq: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** A reader at `fromSeq`; throws when those events are gone or not written yet. */
  reader(): RunLogReader {
    return this.log.reader(this.fromSeq);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TrackedEnvelope<ChatEvent>> {
    const stop = this.signal ?? new AbortController().signal;
    let reader: RunLogReader | undefined;
    try {
      reader = this.reader();
      for (;;) {
        // One at a time: a reader's position is what it handed on, so a resume after a drop
        // finds everything the client may have missed.
        const seq = reader.position;
        const [event] = await reader.read(1, stop);
        if (event === undefined) return;
        yield tracked(formatEventId(this.log.runId, seq), event);
      }
    } catch (error) {
      // The reader left; the run's grace period decides what happens to it.
      if (stop.aborted) return;
      // A BrookError must not surface as INTERNAL_SERVER_ERROR: the client would re-run the procedure.
      throw trpcErrorOf(error);
    } finally {
      reader?.close();
    }
  }
}
