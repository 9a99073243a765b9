import { once } from "node:events";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { RunLogReader } from "../storage/run-log.js";
import type { StreamEncoder } from "./stream-encoder.js";

/** Events per write at most: a bounded write keeps what a dropped client missed within the resume margin. */
const maxBatch = 256;

export interface StreamRunOptions {
  /** Aborted when the client goes away (see `closeSignal`). */
  signal: AbortSignal;
  /** The encoder's ping goes out after this much silence, so idle proxies keep the stream. */
  pingMs: number;
  /** 200 by default. */
  status?: number;
  /** Headers the route set already (CORS, rate limits); the encoder's are added to them. */
  headers?: OutgoingHttpHeaders;
}

/**
 * Writes a run to an HTTP response in one encoder's format: every event ready at once goes out
 * in one write (the headers with the first, the end of the response with the last), a full
 * socket is waited for (`drain`), a silent stream gets pings. Ends the response after the
 * terminal event, and closes the reader whatever happens.
 */
export async function streamRun(
  res: ServerResponse,
  reader: RunLogReader,
  encoder: StreamEncoder,
  options: StreamRunOptions,
): Promise<void> {
  const { signal } = options;
  let lastWrite = Date.now();
  const ping = setInterval(
    () => {
      if (Date.now() - lastWrite < options.pingMs) return;
      lastWrite = Date.now();
      res.write(encoder.ping);
    },
    Math.max(50, options.pingMs / 3),
  );
  ping.unref();
  let text = encoder.start();
  let sent = false;
  /** Writes what is due; a full socket gives back the wait for its `drain`. */
  const flush = (): Promise<unknown> | undefined => {
    sent = true;
    lastWrite = Date.now();
    const flowing = res.write(text);
    text = "";
    return flowing ? undefined : once(res, "drain", { signal });
  };
  try {
    res.writeHead(options.status ?? 200, { ...options.headers, ...encoder.headers });
    for (;;) {
      const seq = reader.position;
      let events = reader.take(maxBatch);
      if (events.length === 0 && !reader.done) {
        // Nothing is ready: what is due goes out before the wait (the headers, the encoder's start).
        if (text !== "") {
          const full = flush();
          if (full !== undefined) await full;
        } else if (!sent) {
          sent = true;
          res.flushHeaders();
        }
        events = await reader.read(maxBatch, signal);
      }
      for (let index = 0; index < events.length; index++) {
        text += encoder.event(events[index] as (typeof events)[number], seq + index);
      }
      // A pause counts once everything ready was read (a short batch), never in the middle of a replay.
      if (reader.done || (encoder.paused === true && events.length < maxBatch)) {
        // The last events and the end of the response share one write.
        res.end(text + encoder.end());
        return;
      }
      if (text !== "") {
        const full = flush();
        if (full !== undefined) await full;
      }
    }
  } catch (error) {
    // The client left: nothing more to write; the run's own rules decide its fate.
    if (signal.aborted) return;
    if (encoder.failure === undefined) throw error;
    if (!res.destroyed) res.write(text + encoder.failure(error));
  } finally {
    clearInterval(ping);
    reader.close();
    if (!res.destroyed && !res.writableEnded) res.end();
  }
}

/** An AbortSignal that fires when the response's connection closes before the response ended. */
export function closeSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
