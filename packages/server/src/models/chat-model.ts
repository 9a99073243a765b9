import type { Mode } from "@brook/shared";
import type { ResponseFormat } from "./structured-output.js";

/** A complete tool call the model asked for; `arguments` is JSON text as the model wrote it. */
export interface ModelToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A tool offered to the model: `parameters` is the JSON Schema of its arguments. */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** Whether the model must call a tool: OpenAI's `tool_choice` (a name: that tool). */
export type ModelToolChoice = "none" | "auto" | "required" | { name: string };

/**
 * A piece of a user's message: text, an image the model server gets as OpenAI's `image_url` part
 * (unchanged), or a text file it gets inlined as text with its name.
 */
export type ModelContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: "auto" | "low" | "high" | undefined } }
  | { type: "file"; name: string; mediaType: string; text: string };

export type ModelMessage =
  | { role: "system"; content: string }
  /** A user's turn: its text, or parts when it carries images (text files are inlined as text parts). */
  | {
      role: "user";
      content: string | readonly ModelContentPart[];
      /** It carries the images of the tool results before it, not the person's words. */
      toolImages?: true | undefined;
    }
  /** An assistant turn; `toolCalls` when it asked for tools. */
  | { role: "assistant"; content: string; toolCalls?: ModelToolCall[] | undefined }
  /** The result of one tool call, answering `toolCallId`. */
  | { role: "tool"; toolCallId: string; content: string };

export interface ModelCall {
  model: string;
  messages: ModelMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Sampling options, passed on as they are (OpenAI's `top_p`, penalties, `seed`, `stop`); absent: the server's defaults. */
  topP?: number | undefined;
  presencePenalty?: number | undefined;
  frequencyPenalty?: number | undefined;
  seed?: number | undefined;
  /** Up to 4 sequences where the model stops; none when empty or absent. */
  stop?: readonly string[] | undefined;
  /** Tools the model may call; none when empty or absent. */
  tools?: ModelTool[] | undefined;
  /** Whether it must call one of `tools` (ignored without tools). */
  toolChoice?: ModelToolChoice | undefined;
  /** Whether it may call several tools at once (ignored without tools); absent: the server's default. */
  parallelToolCalls?: boolean | undefined;
  /** How hard a reasoning model should think (`reasoning_effort`, passed on as it is); absent: the model's default. */
  reasoningEffort?: string | undefined;
  /** How long an answer a model should write (OpenAI's `verbosity`, passed on as it is); absent: the model's default. */
  verbosity?: string | undefined;
  /** HTTP headers added to the model server request (the trace context, when telemetry is on). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** What shape the answer must take (OpenAI's `response_format`); absent: text. */
  responseFormat?: ResponseFormat | undefined;
  /** The run's signal: aborting it closes the upstream request and rejects the stream's pending read (timeouts rely on it). */
  signal: AbortSignal;
}

/**
 * What a model stream yields, in order: `accepted` once the server took the request (from then
 * on the prompt is billed), reasoning and text pieces, complete tool calls, one finish, then
 * usage if the server reports it.
 */
export type ModelPart =
  | { type: "accepted" }
  /** Which model and deployment answer (from the router, with the first output): `attempts` counts the failed ones too. */
  | { type: "routed"; model: string; deployment: string; attempts: number }
  /** The model's visible thinking: output (it keeps the timeouts at bay) but never the answer. */
  | { type: "reasoning"; text: string }
  | { type: "text"; text: string }
  | { type: "tool_call"; call: ModelToolCall }
  /** The model is still writing a tool call: no output yet, but not silence (timeouts). */
  | { type: "tool_call_delta" }
  /** `model`: the model that answered, as the server names it (when it says). */
  | { type: "finish"; reason: string; model?: string | undefined }
  | {
      type: "usage";
      inputTokens: number;
      outputTokens: number;
      /** Parts of the totals (0 when the server reports none): prompt read from cache, output spent thinking. */
      cachedInputTokens: number;
      reasoningTokens: number;
    };

/**
 * A model adapter. It throws `BrookError`s; a stream that ends without `finish` was cut.
 * Parts come in batches, each what arrived together (one network read), never empty: a burst
 * of tokens then costs one step through every layer, not one per token.
 */
export interface ChatModel {
  readonly mode: Mode;
  stream(call: ModelCall): AsyncIterable<readonly ModelPart[]>;
  /** Frees what the adapter holds (connections) when Brook closes. */
  close?(): Promise<void>;
}

/**
 * Takes one batch of a model stream. A promise it returns (the run's buffer is full) is waited
 * for before the next batch is read.
 */
export type PartsSink = (parts: readonly ModelPart[]) => Promise<void> | undefined;

/**
 * A model stream that can push: from `pushParts` on, each batch goes to the sink in the call that
 * read it from the network, with no promise, generator or microtask between the read and the
 * sink. The promise settles once, when the stream ends (resolved) or fails (rejected with the
 * stream's error, or the sink's own); the sink is not called after. Adapters that read a socket
 * implement it; the others are pulled (`forEachParts`).
 */
export interface PushableParts extends AsyncIterator<readonly ModelPart[]> {
  pushParts(sink: PartsSink): Promise<void>;
}

export function canPush(iterator: AsyncIterator<readonly ModelPart[]>): iterator is PushableParts {
  return typeof (iterator as Partial<PushableParts>).pushParts === "function";
}

/**
 * Hands every batch of a model stream to `sink`: pushed when the stream can push, else pulled
 * (and then closed early if the sink throws, as `for await` would).
 */
export async function forEachParts(stream: AsyncIterable<readonly ModelPart[]>, sink: PartsSink): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  if (canPush(iterator)) return iterator.pushParts(sink);
  return pullParts(iterator, sink);
}

/** `forEachParts` by pulling: one `next()` per batch. */
export async function pullParts(iterator: AsyncIterator<readonly ModelPart[]>, sink: PartsSink): Promise<void> {
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return;
    try {
      const wait = sink(next.value);
      if (wait !== undefined) await wait;
    } catch (error) {
      await iterator.return?.()?.catch(() => {});
      throw error;
    }
  }
}

/** A message's own text: its text parts joined (images and files left out). */
export function messageText(content: string | readonly ModelContentPart[]): string {
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) if (part.type === "text") text += part.text;
  return text;
}
