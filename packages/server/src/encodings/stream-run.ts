import { once } from "node:events";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ChatEvent } from "@brook/shared";
import type { RunLogReader } from "../storage/run-log.js";
import { type ChunkWriter, chunkWriter } from "./chunk-writer.js";
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

/** What a writer waits for once it wrote everything ready: more events, a full socket's `drain`, nothing (it ended). */
type Wait = "events" | "drain" | "end";

/**
 * Writes a run to an HTTP response in one encoder's format: every event ready at once goes out
 * in one write (the headers with the first, the end of the response with the last), a full
 * socket is waited for (`drain`), a silent stream gets pings. Ends the response after the
 * terminal event, and closes the reader whatever happens. A writer that is caught up writes from
 * inside the producer's append when the reader can push (`listen`): no promise per event.
 */
export async function streamRun(
  res: ServerResponse,
  reader: RunLogReader,
  encoder: StreamEncoder,
  options: StreamRunOptions,
): Promise<void> {
  const { signal } = options;
  /** Once the headers are on the socket, writes go straight to it (see `chunkWriter`). */
  let direct = "later" as ChunkWriter | "later" | "never";
  let lastWrite = Date.now();
  const ping = setInterval(
    () => {
      if (Date.now() - lastWrite < options.pingMs) return;
      lastWrite = Date.now();
      // Through the same writer as the events: a response's own write waits a tick, a direct one does not.
      if (typeof direct === "function") direct(encoder.ping);
      else res.write(encoder.ping);
    },
    Math.max(50, options.pingMs / 3),
  );
  ping.unref();
  let text = encoder.start();
  let sent = false;
  /** Writes what is due; false when the socket is full. */
  const flush = (): boolean => {
    sent = true;
    lastWrite = Date.now();
    if (direct === "later") direct = chunkWriter(res);
    const flowing = typeof direct === "function" ? direct(text) : res.write(text);
    text = "";
    return flowing;
  };
  /**
   * Writes `ready` (read from `readySeq` on; when given) and then everything ready, in writes of
   * up to `maxBatch` events; says what to wait for next.
   */
  const write = (ready: readonly ChatEvent[] | undefined, readySeq: number): Wait => {
    let events = ready;
    let seq = readySeq;
    for (;;) {
      if (events === undefined) {
        seq = reader.position;
        events = reader.take(maxBatch);
        if (events.length === 0 && !reader.done) {
          // Nothing is ready: what is due goes out before the wait (the headers, the encoder's start).
          if (text !== "") return flush() ? "events" : "drain";
          if (!sent) {
            sent = true;
            res.flushHeaders();
          }
          return "events";
        }
      }
      for (let index = 0; index < events.length; index++) {
        text += encoder.event(events[index] as ChatEvent, seq + index);
      }
      // A pause counts once everything ready was read (a short batch), never in the middle of a replay.
      if (reader.done || (encoder.paused === true && events.length < maxBatch)) {
        // The last events and the end of the response share one write.
        res.end(text + encoder.end());
        text = "";
        return "end";
      }
      if (text !== "" && !flush()) return "drain";
      events = undefined;
    }
  };
  const listen = reader.listen?.bind(reader);
  try {
    res.writeHead(options.status ?? 200, { ...options.headers, ...encoder.headers });
    let wait = write(undefined, 0);
    while (wait !== "end") {
      if (wait === "drain") {
        // A full socket written directly drains as the socket, not as the response.
        await once(typeof direct === "function" ? direct.socket : res, "drain", { signal });
        wait = write(undefined, 0);
      } else if (listen !== undefined) {
        wait = await pushed(listen, signal, write);
      } else {
        const seq = reader.position;
        wait = write(await reader.read(maxBatch, signal), seq);
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

/**
 * Waits for events with the reader's listener: each append writes at once, in the producer's
 * call, for as long as the socket takes it; the wait ends when the socket is full or the run
 * ended (or the client left: rejects).
 */
function pushed(
  listen: (listener: (() => void) | undefined) => void,
  signal: AbortSignal,
  write: (ready: undefined, readySeq: number) => Wait,
): Promise<Wait> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      listen(undefined);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      stop();
      reject(signal.reason);
    };
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    listen(() => {
      let wait: Wait;
      try {
        wait = write(undefined, 0);
      } catch (error) {
        stop();
        reject(error);
        return;
      }
      if (wait === "events") return;
      stop();
      resolve(wait);
    });
  });
}

/** An AbortSignal that fires when the response's connection closes before the response ended. */
export function closeSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
