import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Writes one piece of a streamed HTTP/1.1 response as one chunk, straight to the socket: its
 * size line, the text and the closing line in one string and one write. `res.write` sends the
 * same bytes as four corked writes, uncorked on the next tick into one `writev`: at one event
 * per network read that machinery costs about as much as the rest of the relay's own work.
 * Returns false when the socket is full (wait for its `drain`).
 */
export type ChunkWriter = ((text: string) => boolean) & { readonly socket: Socket };

/**
 * A chunk writer for `res`: `later` while the headers have not reached the socket yet (Node
 * holds a response's first write until the next tick, to send it with the headers: a direct
 * write now would go before them), `never` when the response is not chunked HTTP/1.1 (HTTP/1.0,
 * a known length) or not on a socket of its own (HTTP/2, a pipelined response waiting for the
 * one before it): there `res.write` stays.
 */
export function chunkWriter(res: ServerResponse): ChunkWriter | "later" | "never" {
  const socket = res.socket;
  const state = res as { chunkedEncoding?: unknown; _headerSent?: unknown };
  // `chunkedEncoding` is set when the headers are built, from the request's version and the headers.
  if (socket === null || state.chunkedEncoding !== true) return "never";
  if (state._headerSent !== true || res.writableCorked > 0)
    return typeof state._headerSent === "boolean" ? "later" : "never";
  const write = (text: string): boolean => {
    // An empty chunk would end the response.
    if (text === "") return true;
    return socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  };
  return Object.assign(write, { socket });
}
