import type { Readable } from "node:stream";
import { finished } from "node:stream";
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
): AsyncIterableIterator<CompletionChunk[]> {
  const parser = new ChunkParser(response.headers, maxEventBytes);
  // The body and headers are taken now: nothing alive while the answer streams keeps the
  // Response (its state, headers list and body getter).
  const node = takeNodeBody(response);
  if (node !== undefined) return new PushedChunks(node, parser);
  return readChunks(new ChunkReader(webBodyChunks(response), parser));
}

/**
 * Server-sent events to chunks: bytes in (`feed`), the chunks they complete out. A failure (a
 * chunk that is not JSON, an `error` object, an event too large) is kept in `failure`, to be
 * thrown once the chunks before it are handed out.
 */
class ChunkParser {
  readonly #headers: Headers;
  readonly #decoder = new TextDecoder();
  readonly #pending: EventSourceMessage[] = [];
  readonly #parser;
  /** `[DONE]` came: the rest is read (so the connection can be reused) but ignored. */
  #finished = false;
  failure: Error | undefined;

  constructor(headers: Headers, maxEventBytes: number) {
    this.#headers = headers;
    this.#parser = createParser({
      onEvent: (message) => this.#pending.push(message),
      onError: (error) => {
        if (error.type !== "max-buffer-size-exceeded") return;
        this.failure ??= new BrookError(
          "upstream_invalid_answer",
          `The model server sent a stream event larger than ${maxEventBytes} bytes, the most Brook reads (MODEL_MAX_EVENT_BYTES).`,
        );
      },
      // The parser counts decoded characters, never more than the bytes: every event of up to
      // that many bytes passes.
      maxBufferSize: maxEventBytes,
    });
  }

  /** The chunks `bytes` completes; at the body's end (undefined) those of what is left. */
  feed(bytes: Uint8Array | undefined): CompletionChunk[] {
    // An event cut before its blank line is dropped, as the SDK and the SSE standard do.
    this.#parser.feed(bytes === undefined ? this.#decoder.decode() : this.#decoder.decode(bytes, { stream: true }));
    const chunks: CompletionChunk[] = [];
    const pending = this.#pending;
    for (let index = 0; index < pending.length && !this.#finished && this.failure === undefined; index++) {
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
          this.failure = new OpenAI.APIError(undefined, chunk.error as object, undefined, this.#headers);
        } else chunks.push(chunk);
      } catch (error) {
        this.failure = error as Error;
      }
    }
    pending.length = 0;
    return chunks;
  }
}

const ended: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Takes the chunks of one network read; a promise it returns is waited for before the next read. */
export type ChunksSink = (chunks: CompletionChunk[]) => Promise<void> | undefined;

/** Chunks that can also be pushed (see `PushedChunks.pushTo`). */
export interface PushableChunks extends AsyncIterableIterator<CompletionChunk[]> {
  pushTo(sink: ChunksSink): Promise<void>;
}

export function canPushChunks(chunks: AsyncIterableIterator<CompletionChunk[]>): chunks is PushableChunks {
  return typeof (chunks as Partial<PushableChunks>).pushTo === "function";
}

/**
 * The chunks of a Node body (the socket's own stream), pushed: each network read is parsed in
 * the body's `data` event and hands its batch straight to the waiting `next()`, one promise per
 * batch and no async iteration of the stream under it, or (`pushTo`) to a sink, with no promise
 * at all. A batch no one waits for pauses the body (the socket, and so the model server, wait
 * too) until it is taken.
 */
class PushedChunks implements PushableChunks {
  readonly #body: Readable;
  readonly #parser: ChunkParser;
  /** Read while no one waited: the body is paused until it is taken. */
  #ready: CompletionChunk[] | undefined;
  #waiting:
    | { resolve: (result: IteratorResult<CompletionChunk[]>) => void; reject: (error: unknown) => void }
    | undefined;
  #flowing = false;
  /** The body's end was read: the connection can be reused. */
  #drained = false;
  /** Reading failed (the parser's failure, or the body's error), or the reader stopped. */
  #error: unknown;
  #closed = false;
  /** Push mode: where each read's chunks go, and how the push ends. */
  #sink: ChunksSink | undefined;
  #settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** The sink asked to wait (its promise is pending): the body is paused. */
  #sinkWaiting = false;

  constructor(body: Readable, parser: ChunkParser) {
    this.#body = body;
    this.#parser = parser;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<CompletionChunk[]>> {
    const ready = this.#ready;
    if (ready !== undefined) {
      this.#ready = undefined;
      if (!this.#drained) this.#body.resume();
      return Promise.resolve({ done: false, value: ready });
    }
    const error = this.#error ?? this.#parser.failure;
    if (error !== undefined) {
      this.#close();
      return Promise.reject(error);
    }
    if (this.#drained || this.#closed) return Promise.resolve(ended);
    if (!this.#flowing) this.#listen();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /**
   * From now on every read's chunks go to `sink`, in the body's own `data` event: resolves at the
   * end of the body, rejects with the reading's failure or the sink's. Pulling again is not allowed.
   */
  pushTo(sink: ChunksSink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#sink = sink;
      this.#settle = { resolve, reject };
      const ready = this.#ready;
      this.#ready = undefined;
      if (ready !== undefined) this.#toSink(ready);
      else this.#settleIfOver();
      if (this.#settle !== undefined && !this.#sinkWaiting) {
        if (!this.#flowing) this.#listen();
        else if (!this.#drained) this.#body.resume();
      }
    });
  }

  /** Hands `chunks` to the sink; a promise it returns pauses the body until it settles. */
  #toSink(chunks: CompletionChunk[]): void {
    let wait: Promise<void> | undefined;
    try {
      wait = (this.#sink as ChunksSink)(chunks);
    } catch (error) {
      this.#endPush(error, true);
      return;
    }
    if (wait === undefined) {
      this.#settleIfOver();
      return;
    }
    this.#sinkWaiting = true;
    if (!this.#drained) this.#body.pause();
    wait.then(this.#sinkReady, this.#sinkFailed);
  }

  readonly #sinkReady = () => {
    this.#sinkWaiting = false;
    if (this.#settle === undefined) return;
    const ready = this.#ready;
    if (ready !== undefined) {
      this.#ready = undefined;
      this.#toSink(ready);
      if (this.#sinkWaiting) return;
    }
    this.#settleIfOver();
    if (this.#settle !== undefined && !this.#drained) this.#body.resume();
  };

  readonly #sinkFailed = (error: unknown) => {
    this.#sinkWaiting = false;
    this.#endPush(error, true);
  };

  /** Ends the push if the body ended or failed (once the sink is not waiting). */
  #settleIfOver(): void {
    if (this.#settle === undefined || this.#sinkWaiting) return;
    const error = this.#error ?? this.#parser.failure;
    if (error !== undefined) this.#endPush(error, true);
    else if (this.#drained || this.#closed) this.#endPush(undefined, false);
  }

  #endPush(error: unknown, failed: boolean): void {
    const settle = this.#settle;
    if (settle === undefined) return;
    this.#settle = undefined;
    this.#sink = undefined;
    if (failed) {
      this.#close();
      settle.reject(error);
    } else settle.resolve();
  }

  return(): Promise<IteratorResult<CompletionChunk[]>> {
    // Early exit or failure: drop the rest of the answer and its connection.
    this.#close();
    return Promise.resolve(ended);
  }

  #listen(): void {
    this.#flowing = true;
    const body = this.#body;
    body.on("data", this.#onData);
    body.once("end", this.#onEnd);
    // An error, or a close before the end (the connection dropped): as the stream's own iterator reports it.
    finished(body, { writable: false }, (error) => {
      if (error != null && !this.#drained) this.#fail(error);
    });
  }

  readonly #onData = (bytes: Uint8Array) => {
    this.#deliver(this.#parser.feed(bytes));
  };

  readonly #onEnd = () => {
    this.#drained = true;
    this.#deliver(this.#parser.feed(undefined));
  };

  #deliver(chunks: CompletionChunk[]): void {
    if (this.#settle !== undefined) {
      if (chunks.length === 0) this.#settleIfOver();
      // Read after the body was paused for a waiting sink: it goes once the sink is ready.
      else if (this.#sinkWaiting) this.#ready = this.#ready === undefined ? chunks : this.#ready.concat(chunks);
      else this.#toSink(chunks);
      return;
    }
    const waiting = this.#waiting;
    if (chunks.length > 0) {
      if (waiting === undefined) {
        this.#ready = this.#ready === undefined ? chunks : this.#ready.concat(chunks);
        if (!this.#drained) this.#body.pause();
        return;
      }
      this.#waiting = undefined;
      waiting.resolve({ done: false, value: chunks });
      return;
    }
    if (waiting === undefined) {
      // Nothing more is read past a failure: the next `next()` throws it.
      if (this.#parser.failure !== undefined && !this.#drained) this.#body.pause();
      return;
    }
    if (this.#parser.failure !== undefined) {
      this.#waiting = undefined;
      this.#close();
      waiting.reject(this.#parser.failure);
    } else if (this.#drained) {
      this.#waiting = undefined;
      waiting.resolve(ended);
    }
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#error ??= error;
    if (this.#settle !== undefined) {
      // A failure waits for a waiting sink, as a pulled one waits for the next read.
      this.#settleIfOver();
      return;
    }
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    this.#close();
    waiting.reject(error);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#body.off("data", this.#onData);
    if (!this.#drained) this.#body.destroy();
  }
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

/** Pulls a web body's reads through the parser (a Response not made by Brook's fetch). */
class ChunkReader {
  readonly #bytes: AsyncIterator<Uint8Array>;
  readonly #parser: ChunkParser;
  /** The body's end was read: the connection can be reused. */
  #drained = false;

  constructor(bytes: AsyncIterator<Uint8Array>, parser: ChunkParser) {
    this.#bytes = bytes;
    this.#parser = parser;
  }

  /** The chunks of the next network read that has any; undefined at the end of the body. */
  async read(): Promise<CompletionChunk[] | undefined> {
    for (;;) {
      if (this.#parser.failure !== undefined) throw this.#parser.failure;
      if (this.#drained) return undefined;
      const read = await this.#bytes.next();
      if (read.done) this.#drained = true;
      const chunks = this.#parser.feed(read.done ? undefined : read.value);
      // What came before a failure in the same read is still the answer's.
      if (chunks.length > 0) return chunks;
    }
  }

  async close(): Promise<void> {
    // Early exit or failure: drop the rest of the answer and its connection.
    if (!this.#drained) await this.#bytes.return?.()?.catch(() => {});
  }
}

/** The bytes of a Response's web body. */
function webBodyChunks(response: Response): AsyncIterator<Uint8Array> {
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
