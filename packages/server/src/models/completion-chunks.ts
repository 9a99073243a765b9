import { createParser, type EventSourceMessage } from "eventsource-parser";
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { takeNodeBody } from "./upstream-fetch.js";

/** Far above any real chunk; a stream that never ends its line cannot grow memory without bound. */
const maxBufferedChars = 8 * 1024 * 1024;

/**
 * The chunks of a streaming chat completion, read from the raw response the `openai` SDK opened,
 * in batches: the chunks of one network read together (never an empty batch).
 *
 * Same results as iterating the SDK's `Stream` — `[DONE]` ends the stream, a payload that is not
 * JSON throws a SyntaxError, an `error` object throws an `APIError` — at a fraction of the cost
 * per chunk: the SDK copies its whole buffer once per event (quadratic in the events of one
 * network read) and passes each chunk through three async generators. Stopping early cancels
 * the body, and so the upstream request.
 */
export async function* completionChunks(response: Response): AsyncGenerator<ChatCompletionChunk[]> {
  const bytes = bodyChunks(response);
  const pending: EventSourceMessage[] = [];
  let failure: Error | undefined;
  const parser = createParser({
    onEvent: (message) => pending.push(message),
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") failure = new SyntaxError(error.message);
    },
    maxBufferSize: maxBufferedChars,
  });
  const decoder = new TextDecoder();
  /** `[DONE]` came: the rest is read (so the connection can be reused) but ignored. */
  let finished = false;
  let drained = false;
  try {
    while (!drained) {
      const read = await bytes.next();
      if (read.done) drained = true;
      // An event cut before its blank line is dropped, as the SDK and the SSE standard do.
      parser.feed(read.done ? decoder.decode() : decoder.decode(read.value, { stream: true }));
      if (failure !== undefined) throw failure;
      const chunks: ChatCompletionChunk[] = [];
      let broken: Error | undefined;
      for (let index = 0; index < pending.length && !finished && broken === undefined; index++) {
        const data = (pending[index] as EventSourceMessage).data;
        if (data.startsWith("[DONE]")) {
          finished = true;
          break;
        }
        try {
          const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown };
          if (chunk?.error) broken = new OpenAI.APIError(undefined, chunk.error as object, undefined, response.headers);
          else chunks.push(chunk);
        } catch (error) {
          broken = error as Error;
        }
      }
      pending.length = 0;
      // What came before a failure in the same read is still the answer's.
      if (chunks.length > 0) yield chunks;
      if (broken !== undefined) throw broken;
    }
  } finally {
    // Early exit or failure: drop the rest of the answer and its connection.
    if (!drained) await bytes.return?.()?.catch(() => {});
  }
}

/** The body's bytes: straight from the socket's Node stream when Brook's fetch made the response. */
function bodyChunks(response: Response): AsyncIterator<Uint8Array> {
  const node = takeNodeBody(response);
  if (node !== undefined) return node[Symbol.asyncIterator]();
  const body = response.body;
  if (body === null) throw new OpenAI.APIConnectionError({ message: "The model server sent no response body." });
  const reader = body.getReader();
  return {
    next: async () => (await reader.read()) as IteratorResult<Uint8Array>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}
