import { once } from "node:events";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ChatEvent } from "@brook/shared";
import type { Run, RunReader } from "../engine/run.js";

/** The REST stream's headers. */
export const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  // no-transform keeps proxies from compressing or buffering the stream.
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/** Events per write at most: a bounded write keeps what a dropped client missed within the resume margin. */
const maxBatch = 256;

/** How a stream's parts look on the wire (the REST routes' and tRPC's formats differ). */
export interface SseFormat {
  /** One event of the run; `seq` is its place in the run. */
  event(runId: string, seq: number, event: ChatEvent): string;
  /** What keeps a silent stream open. */
  ping: string;
  /** Written after the terminal event, before the response ends. */
  end: string;
  /** Written when reading fails (not when the client left); without it the error is thrown. */
  failure?: (error: unknown) => string;
}

/** The seed's format: `id:` + `data: <json>`, `: ping` comments. */
export const restSseFormat: SseFormat = {
  event: (runId, seq, event) => `id: ${runId}:${seq}\ndata: ${JSON.stringify(event)}\n\n`,
  ping: ": ping\n\n",
  end: "",
};

export interface SseOptions {
  /** The ping goes out after this much silence, so idle proxies keep the stream. */
  pingMs: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The response status (200 by default) and headers. */
  status?: number;
  headers: OutgoingHttpHeaders;
  /** Text that goes out first, together with the headers. */
  head?: string;
}

/**
 * Writes what `reader` reads of `run` in `format`, batching whatever is ready into one write and
 * waiting for `drain` when the socket is full. Ends the response after the terminal event and
 * closes the reader.
 */
export async function writeRunAsSse(
  res: ServerResponse,
  run: Run,
  reader: RunReader,
  format: SseFormat,
  options: SseOptions,
) {
  const { signal } = options;
  let lastWrite = Date.now();
  const ping = setInterval(
    () => {
      if (Date.now() - lastWrite < options.pingMs) return;
      lastWrite = Date.now();
      res.write(format.ping);
    },
    Math.max(50, options.pingMs / 3),
  );
  ping.unref();
  let text = options.head ?? "";
  try {
    res.writeHead(options.status ?? 200, options.headers);
    // Headers go out with the first events when some are ready (one write), else at once.
    if (text === "" && run.head <= reader.position) res.flushHeaders();
    for (;;) {
      let seq = reader.position;
      const batch = reader.take(maxBatch);
      for (const event of batch) text += format.event(run.id, seq++, event);
      const done = reader.done;
      if (done) text += format.end;
      if (text !== "") {
        lastWrite = Date.now();
        // The last events and the end of the response share one write.
        if (done) {
          res.end(text);
          break;
        }
        const flowing = res.write(text);
        text = "";
        if (!flowing) await once(res, "drain", { signal });
      }
      if (done) break;
      if (batch.length === 0) await reader.wait(signal);
    }
  } catch (error) {
    // The client left: nothing more to write; the run's grace rules decide its fate.
    if (signal.aborted) return;
    if (format.failure === undefined) throw error;
    if (!res.destroyed) res.write(text + format.failure(error));
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
