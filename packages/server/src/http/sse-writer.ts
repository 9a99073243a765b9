import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { Run, RunReader } from "../engine/run.js";

const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  // no-transform keeps proxies from compressing or buffering the stream.
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/** Events per write at most: a bounded write keeps what a dropped client missed within the resume margin. */
const maxBatch = 256;

export interface SseOptions {
  /** A `: ping` comment goes out after this much silence, so idle proxies keep the stream. */
  pingMs: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * Writes what `reader` reads of `run` in the seed's SSE format (`id:` + `data: <json>`),
 * batching whatever is ready into one write and waiting for `drain` when the socket is full.
 * Ends the response after the terminal event and closes the reader.
 */
export async function writeRunAsSse(res: ServerResponse, run: Run, reader: RunReader, options: SseOptions) {
  const { signal } = options;
  let lastWrite = Date.now();
  const ping = setInterval(
    () => {
      if (Date.now() - lastWrite < options.pingMs) return;
      lastWrite = Date.now();
      res.write(": ping\n\n");
    },
    Math.max(50, options.pingMs / 3),
  );
  ping.unref();
  try {
    res.writeHead(200, sseHeaders);
    // Headers go out with the first events when some are ready (one write), else at once.
    if (run.head <= reader.position) res.flushHeaders();
    for (;;) {
      let seq = reader.position;
      const batch = reader.take(maxBatch);
      if (batch.length > 0) {
        let text = "";
        for (const event of batch) text += `id: ${run.id}:${seq++}\ndata: ${JSON.stringify(event)}\n\n`;
        lastWrite = Date.now();
        // The last events and the end of the response share one write.
        if (reader.done) {
          res.end(text);
          break;
        }
        if (!res.write(text)) await once(res, "drain", { signal });
      }
      if (reader.done) break;
      if (batch.length === 0) await reader.wait(signal);
    }
  } catch (error) {
    // The client left: nothing more to write; the run's grace rules decide its fate.
    if (!signal.aborted) throw error;
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
