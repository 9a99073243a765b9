import { type ChatEvent, formatEventId } from "@brook/shared";
import { type TrackedEnvelope, tracked } from "@trpc/server";
import type { Run, RunReader } from "../engine/run.js";
import { BrookError } from "../errors/brook-error.js";
import { toTrpcError } from "./trpc.js";

/**
 * What the subscriptions `chat.stream` and `chat.events` return: a run to read from `fromSeq` on.
 * tRPC's adapter iterates it as tracked events; Brook's SSE fast path (sse-fast-path.ts) reads
 * the run itself, in batches.
 */
export class RunSubscription implements AsyncIterable<TrackedEnvelope<ChatEvent>> {
  constructor(
    readonly run: Run,
    readonly fromSeq: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** A reader at `fromSeq`; the run's refusals (events no longer kept, not yet written) as tRPC errors. */
  attach(): RunReader {
    try {
      return this.run.attach(this.fromSeq);
    } catch (error) {
      throw error instanceof BrookError ? toTrpcError(error) : error;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TrackedEnvelope<ChatEvent>> {
    return readRun(this.run, this.fromSeq, this.signal);
  }
}

/** Reads a run from `fromSeq` as tracked events; returns normally after the terminal event. */
async function* readRun(run: Run, fromSeq: number, signal: AbortSignal | undefined) {
  const stop = signal ?? new AbortController().signal;
  try {
    for await (const [seq, event] of run.events(fromSeq, stop)) yield tracked(formatEventId(run.id, seq), event);
  } catch (error) {
    // The reader left; the run's grace period decides what happens to it.
    if (stop.aborted) return;
    // A BrookError must not surface as INTERNAL_SERVER_ERROR: the client would re-run the procedure.
    throw error instanceof BrookError ? toTrpcError(error) : error;
  }
}
