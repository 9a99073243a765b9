import { createParser, type EventSourceMessage } from "eventsource-parser";
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { BrookError } from "../errors/brook-error.js";
import { textDelta } from "./text-delta.js";
import { takeNodeBody } from "./upstream-fetch.js";

/**
 * The default largest stream event, in bytes (MODEL_MAX_EVENT_BYTES): far above any real chunk
 * (a 10 MB one passes), and a stream that never ends its line cannot grow memory without bound.
 */
export const defaultMaxEventBytes = 16 * 1024 * 1024;

/** A parsed chunk, or the text of a chunk that carries only answer text (see `textDelta`). */
export type CompletionChunk = ChatCompletionChunk | string;

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
export function completionChunks(
  response: Response,
  maxEventBytes = defaultMaxEventBytes,
): AsyncGenerator<CompletionChunk[]> {
  // The body and headers are taken now: the generator's frame, alive as long as the answer
  // streams, does not keep the Response (its state, headers list and body getter).
  return readChunks(new ChunkReader(response, maxEventBytes));
}

async function* readChunks(reader: ChunkReader): AsyncGenerator<CompletionChunk[]> {
  // The reading happens in ChunkReader's own frames: this generator, suspended between batches
  // for as long as the model is silent, holds only the batch it hands out (not the last network
  // read, its decoded text or a parsed chunk), which keeps an open stream small.
  try {
    for (let batch = await reader.read(); batch !== undefined; batch = await reader.read()) yield batch;
  } finally {
    await reader.close();
  }
}

class ChunkReader {
  readonly #headers: Headers;
  readonly #bytes: AsyncIterator<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #pending: EventSourceMessage[] = [];
  readonly #parser;
  /** The body's end was read: the connection can be reused. */
  #drained = false;
  /** `[DONE]` came: the rest is read (so the connection can be reused) but ignored. */
  #finished = false;
  /** A failure found after some chunks of the same read: thrown once those are handed out. */
  #failure: Error | undefined;

  constructor(response: Response, maxEventBytes: number) {
    this.#headers = response.headers;
    this.#bytes = bodyChunks(response);
    this.#parser = createParser({
      onEvent: (message) => this.#pending.push(message),
      onError: (error) => {
        if (error.type !== "max-buffer-size-exceeded") return;
        this.#failure ??= new BrookError(
          "upstream_invalid_answer",
          `The model server sent a stream event larger than ${maxEventBytes} bytes, the most Brook reads (MODEL_MAX_EVENT_BYTES).`,
        );
      },
      // The parser counts decoded characters, never more than the bytes: every event of up to
      // that many bytes passes.
      maxBufferSize: maxEventBytes,
    });
  }

  /** The chunks of the next network read that has any; undefined at the end of the body. */
  async read(): Promise<CompletionChunk[] | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#drained) return undefined;
      const read = await this.#bytes.next();
      if (read.done) this.#drained = true;
      // An event cut before its blank line is dropped, as the SDK and the SSE standard do.
      this.#parser.feed(read.done ? this.#decoder.decode() : this.#decoder.decode(read.value, { stream: true }));
      const chunks = this.#parsePending();
      // What came before a failure in the same read is still the answer's.
      if (chunks.length > 0) return chunks;
    }
  }

  async close(): Promise<void> {
    // Early exit or failure: drop the rest of the answer and its connection.
    if (!this.#drained) await this.#bytes.return?.()?.catch(() => {});
  }

  #parsePending(): CompletionChunk[] {
    const chunks: CompletionChunk[] = [];
    const pending = this.#pending;
    for (let index = 0; index < pending.length && !this.#finished && this.#failure === undefined; index++) {
      const data = (pending[index] as EventSourceMessage).data;
      if (data.startsWith("[DONE]")) {
        this.#finished = true;
        break;
      }
      const text = textDelta(data);
      if (text !== undefined) {
        chunks.push(text);
        continue;
      }
      try {
        const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown };
        if (chunk?.error) {
          this.#failure = new OpenAI.APIError(undefined, chunk.error as object, undefined, this.#headers);
        } else chunks.push(chunk);
      } catch (error) {
        this.#failure = error as Error;
      }
    }
    pending.length = 0;
    return chunks;
  }
}

/** The body's bytes: straight from the socket's Node stream when Brook's fetch made the response. */
function bodyChunks(response: Response): AsyncIterator<Uint8Array> {
  const node = takeNodeBody(response);
  if (node !== undefined) return node[Symbol.asyncIterator]();
  const body = response.body;
  if (body === null) {
    // Thrown at the first read, as before the reader was made up front.
    const missing = new OpenAI.APIConnectionError({ message: "The model server sent no response body." });
    return { next: () => Promise.reject(missing) };
  }
  const reader = body.getReader();
  return {
    next: async () => (await reader.read()) as IteratorResult<Uint8Array>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}
