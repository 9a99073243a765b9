import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { BrookError } from "../errors/brook-error.js";
import {
  type ChatModel,
  type ModelCall,
  type ModelMessage,
  type ModelPart,
  type ModelTool,
  type ModelToolChoice,
  type PartsSink,
  type PushableParts,
  pullParts,
} from "./chat-model.js";
import { type CompletionChunk, canPushChunks, completionChunks } from "./completion-chunks.js";
import { errorText } from "./error-text.js";
import { openAIParts } from "./message-parts.js";
import { retryDelayMs, waitBeforeRetry } from "./retry.js";
import type { ResponseFormat } from "./structured-output.js";
import { ToolCallAssembler } from "./tool-call-assembler.js";
import { toBrookError } from "./upstream-errors.js";
import { createUpstreamFetch } from "./upstream-fetch.js";

const accepted: ModelPart = { type: "accepted" };
const toolCallDelta: ModelPart = { type: "tool_call_delta" };

/** What one model call has seen so far, across chunks. */
interface ChunkState {
  finished: boolean;
  toolCalls: ToolCallAssembler;
}

export interface OpenAIChatModelOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  maxRetries: number;
  /** The largest stream event read (MODEL_MAX_EVENT_BYTES); default 16 MiB. */
  maxEventBytes?: number | undefined;
  /** HTTP headers sent with every call (a `MODELS` entry's `headers`). */
  headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * Chat completions over the `openai` SDK against any OpenAI-compatible server
 * (OpenAI, vLLM, Ollama, llama.cpp). Streams with usage; the SDK retries only
 * before the first byte of the answer.
 */
export class OpenAIChatModel implements ChatModel {
  readonly mode = "openai" as const;
  readonly #client: OpenAI;
  readonly #maxRetries: number;
  readonly #maxEventBytes: number | undefined;
  readonly #upstream = createUpstreamFetch();
  /** Where answers are asked for, and the headers every request carries (as the SDK sends them). */
  readonly #completionsUrl: string;
  readonly #headers: Record<string, string>;

  constructor(options: OpenAIChatModelOptions) {
    this.#maxRetries = options.maxRetries;
    this.#maxEventBytes = options.maxEventBytes;
    this.#client = new OpenAI({
      fetch: this.#upstream.fetch,
      // Local servers (vLLM, Ollama, llama.cpp) need no key, but the SDK insists on one.
      apiKey: options.apiKey ?? "no-key",
      baseURL: options.baseURL,
      maxRetries: 0,
      ...(options.headers === undefined ? {} : { defaultHeaders: { ...options.headers } }),
      // The SDK would print malformed upstream chunks (conversation text) to the console.
      logLevel: "off",
    });
    this.#completionsUrl = `${this.#client.baseURL.replace(/\/+$/, "")}/chat/completions`;
    const { organization, project } = this.#client;
    this.#headers = {
      accept: "application/json",
      "content-type": "application/json",
      authorization: `Bearer ${this.#client.apiKey}`,
      "user-agent": "Brook",
      ...(organization == null ? {} : { "openai-organization": organization }),
      ...(project == null ? {} : { "openai-project": project }),
      // A MODELS entry's own headers, over Brook's (as the SDK's defaultHeaders are over its own).
      ...lowerCaseKeys(options.headers),
    };
  }

  /** Closes the connections to the model server. */
  close(): Promise<void> {
    return this.#upstream.close();
  }

  stream(call: ModelCall): AsyncIterableIterator<ModelPart[]> & PushableParts {
    return new OpenAIParts(() => this.#open(call), this.#maxEventBytes, call.signal);
  }

  /**
   * Opens the stream, retrying failures that may pass (429, 5xx, connection) before any token:
   * once an answer has started, it is never asked for again. Brook retries itself because the
   * SDK's wait between attempts ignores the AbortSignal.
   */
  async #open(call: ModelCall) {
    const body = {
      model: call.model,
      messages: call.messages.map(toOpenAIMessage),
      stream: true as const,
      stream_options: { include_usage: true },
      ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
      ...(call.maxTokens === undefined ? {} : { max_tokens: call.maxTokens }),
      ...(call.topP === undefined ? {} : { top_p: call.topP }),
      ...(call.presencePenalty === undefined ? {} : { presence_penalty: call.presencePenalty }),
      ...(call.frequencyPenalty === undefined ? {} : { frequency_penalty: call.frequencyPenalty }),
      ...(call.seed === undefined ? {} : { seed: call.seed }),
      ...(call.stop === undefined || call.stop.length === 0 ? {} : { stop: [...call.stop] }),
      ...(call.tools === undefined || call.tools.length === 0
        ? {}
        : {
            tools: call.tools.map(toOpenAITool),
            ...(call.toolChoice === undefined ? {} : { tool_choice: toOpenAIToolChoice(call.toolChoice) }),
            ...(call.parallelToolCalls === undefined ? {} : { parallel_tool_calls: call.parallelToolCalls }),
          }),
      ...(call.reasoningEffort === undefined
        ? {}
        : { reasoning_effort: call.reasoningEffort as OpenAI.ReasoningEffort }),
      ...(call.verbosity === undefined
        ? {}
        : { verbosity: call.verbosity as OpenAI.ChatCompletionCreateParams["verbosity"] }),
      ...(call.responseFormat === undefined ? {} : { response_format: toOpenAIResponseFormat(call.responseFormat) }),
    };
    for (let attempt = 0; ; attempt += 1) {
      let opened: Response;
      try {
        opened = await this.#post(body, call);
      } catch (error) {
        const retry = attempt < this.#maxRetries && !call.signal.aborted && worthRetrying(error, call.signal);
        const delayMs = retry ? retryDelayMs(error, attempt) : undefined;
        if (delayMs === undefined) throw error;
        await waitBeforeRetry(delayMs, call.signal);
        continue;
      }
      return await eventStream(opened);
    }
  }

  /**
   * One request for a streamed answer, straight to Brook's fetch: the SDK's per-request
   * machinery (headers merged from five sources, log lines built with logging off, its own
   * timeout and retry controller) cost about as much as relaying a whole short answer. Failures
   * become the SDK's own errors, as its client would raise them, so that they map the same way.
   */
  async #post(body: object, call: ModelCall): Promise<Response> {
    let response: Response;
    try {
      response = await this.#upstream.fetch(this.#completionsUrl, {
        method: "POST",
        headers: call.headers === undefined ? this.#headers : { ...this.#headers, ...call.headers },
        body: JSON.stringify(body),
        signal: call.signal,
      });
    } catch (error) {
      if (call.signal.aborted) throw new OpenAI.APIUserAbortError();
      throw new OpenAI.APIConnectionError({ cause: error as Error });
    }
    if (response.ok) return response;
    const text = await errorText(response);
    const json = parseJson(text);
    throw OpenAI.APIError.generate(response.status, json, json === undefined ? text : undefined, response.headers);
  }
}

const ended: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One call's stream: `accepted` once the server took the request, then the parts of each network
 * read (reads with none are skipped), pulled or pushed (`pushParts`, with nothing between the
 * socket's read and the sink). Failures come out as `BrookError`s; stopping early closes the
 * upstream request.
 */
class OpenAIParts implements AsyncIterableIterator<ModelPart[]>, PushableParts {
  readonly #open: () => Promise<Response>;
  readonly #maxEventBytes: number | undefined;
  readonly #signal: AbortSignal;
  readonly #state: ChunkState = { finished: false, toolCalls: new ToolCallAssembler() };
  #chunks: AsyncIterableIterator<CompletionChunk[]> | undefined;
  /** Failed, or stopped: nothing more comes out. */
  #over = false;

  constructor(open: () => Promise<Response>, maxEventBytes: number | undefined, signal: AbortSignal) {
    this.#open = open;
    this.#maxEventBytes = maxEventBytes;
    this.#signal = signal;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ModelPart[]>> {
    if (this.#over) return ended;
    try {
      const chunks = this.#chunks;
      if (chunks === undefined) {
        // Only the reader is kept while the model streams, not the Response it came from.
        this.#chunks = completionChunks(await this.#open(), this.#maxEventBytes);
        return { done: false, value: [accepted] };
      }
      for (;;) {
        const read = await chunks.next();
        if (read.done === true) {
          this.#over = true;
          return ended;
        }
        const parts = this.#partsOf(read.value);
        if (parts.length > 0) return { done: false, value: parts };
      }
    } catch (error) {
      throw this.#failed(error);
    }
  }

  async return(): Promise<IteratorResult<ModelPart[]>> {
    // Early exit: drop the rest of the answer and its connection.
    this.#over = true;
    await this.#chunks?.return?.();
    return ended;
  }

  async pushParts(sink: PartsSink): Promise<void> {
    if (this.#chunks === undefined) {
      // The acceptance is pulled: it comes once the request is answered.
      const first = await this.next();
      if (first.done === true) return;
      await this.#pulledTo(sink, first.value);
    }
    const chunks = this.#chunks as AsyncIterableIterator<CompletionChunk[]>;
    if (this.#over) return;
    // A body Brook's fetch did not make: pulled.
    if (!canPushChunks(chunks)) return pullParts(this, sink);
    let sinkError: { error: unknown } | undefined;
    try {
      await chunks.pushTo((read) => {
        const parts = this.#partsOf(read);
        if (parts.length === 0) return undefined;
        try {
          const wait = sink(parts);
          return wait?.catch((error: unknown) => {
            sinkError = { error };
            throw error;
          });
        } catch (error) {
          sinkError = { error };
          throw error;
        }
      });
    } catch (error) {
      this.#over = true;
      // The sink's own failure is the caller's, as it is when pulled: not the model server's.
      if (sinkError !== undefined) throw sinkError.error;
      throw toBrookError(error, this.#signal);
    }
    this.#over = true;
  }

  /** The parts of one read's chunks (in order). */
  #partsOf(chunks: CompletionChunk[]): ModelPart[] {
    const parts: ModelPart[] = [];
    for (const chunk of chunks) {
      if (typeof chunk !== "string") partsOf(chunk, this.#state, parts);
      else if (chunk !== "") parts.push({ type: "text", text: chunk });
    }
    // Parsed chunks are large; nothing needs them once their parts are out.
    chunks.length = 0;
    return parts;
  }

  /** Ends the stream on `error`: the upstream request closes, the error comes out as a BrookError. */
  #failed(error: unknown): unknown {
    this.#over = true;
    void this.#chunks?.return?.()?.catch(() => {});
    return toBrookError(error, this.#signal);
  }

  /** One pulled batch to the sink; if the sink fails, the stream closes and the sink's error goes on as it is. */
  async #pulledTo(sink: PartsSink, parts: ModelPart[]): Promise<void> {
    try {
      const wait = sink(parts);
      if (wait !== undefined) await wait;
    } catch (error) {
      await this.return().catch(() => {});
      throw error;
    }
  }
}

/** The error body of a refused request, when it is JSON (as the SDK reads it). */
function parseJson(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The parts one chunk carries, appended to `parts`. */
function partsOf(chunk: ChatCompletionChunk, state: ChunkState, parts: ModelPart[]): void {
  // Cheap shape checks stand in for a schema parse on this per-token path.
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  const delta = choice?.delta as ReasoningDelta | undefined;
  const reasoning = delta == null ? undefined : reasoningOf(delta);
  if (reasoning !== undefined) parts.push({ type: "reasoning", text: reasoning });
  const text = delta?.content;
  if (typeof text === "string" && text !== "") parts.push({ type: "text", text });
  const deltas = choice?.delta?.tool_calls;
  if (deltas != null) {
    state.toolCalls.add(deltas);
    parts.push(toolCallDelta);
  }
  const reason = choice?.finish_reason;
  if (typeof reason === "string" && !state.finished) {
    state.finished = true;
    // A call without a name cannot be run nor answered: the answer is broken, not complete.
    if (state.toolCalls.unnamed > 0) {
      throw new BrookError(
        "upstream_invalid_answer",
        `The model server asked for ${state.toolCalls.unnamed === 1 ? "a tool call" : `${state.toolCalls.unnamed} tool calls`} without a name.`,
      );
    }
    // Calls are complete once the choice finishes; the loop sees them before the finish.
    for (const complete of state.toolCalls.finish()) parts.push({ type: "tool_call", call: complete });
    parts.push({ type: "finish", reason, model: typeof chunk.model === "string" ? chunk.model : undefined });
  }
  const usage = chunk.usage;
  // Usage a server got wrong (missing, negative, fractional) is ignored: Brook counts instead.
  if (usage != null && isTokenCount(usage.prompt_tokens) && isTokenCount(usage.completion_tokens)) {
    const details = usage as UsageDetails;
    parts.push({
      type: "usage",
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      // DeepSeek names its cache hits on its own.
      cachedInputTokens: partOf(
        details.prompt_tokens_details?.cached_tokens ?? details.prompt_cache_hit_tokens,
        usage.prompt_tokens,
      ),
      reasoningTokens: partOf(details.completion_tokens_details?.reasoning_tokens, usage.completion_tokens),
    });
  }
}

/** The reasoning fields servers add to a delta; none of them is in the SDK's types. */
interface ReasoningDelta {
  content?: string | null;
  /** DeepSeek, llama.cpp (`--reasoning-format deepseek`), older vLLM. */
  reasoning_content?: unknown;
  /** vLLM, Ollama, OpenRouter. */
  reasoning?: unknown;
  /** OpenRouter: typed pieces, some of them encrypted. */
  reasoning_details?: unknown;
}

/**
 * The reasoning text of a delta. Servers in transition send the same text under two names
 * (vLLM: both fields; OpenRouter: `reasoning` and `reasoning_details`): the first one present wins.
 */
function reasoningOf(delta: ReasoningDelta): string | undefined {
  const named = delta.reasoning_content;
  if (typeof named === "string" && named !== "") return named;
  const short = delta.reasoning;
  if (typeof short === "string" && short !== "") return short;
  const details = delta.reasoning_details;
  if (!Array.isArray(details)) return undefined;
  let text = "";
  for (const detail of details as { type?: unknown; text?: unknown; summary?: unknown }[]) {
    // Only readable pieces: `reasoning.encrypted` carries data no one can show.
    if (detail?.type === "reasoning.text" && typeof detail.text === "string") text += detail.text;
    else if (detail?.type === "reasoning.summary" && typeof detail.summary === "string") text += detail.summary;
  }
  return text === "" ? undefined : text;
}

interface UsageDetails {
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
  prompt_cache_hit_tokens?: unknown;
}

/** A detail of a token total; one a server got wrong counts as none, and never more than the total. */
function partOf(value: unknown, total: number): number {
  return isTokenCount(value) ? Math.min(value, total) : 0;
}

/** Failures that may pass: the catalogue's retryable ones, unless the server says otherwise. */
function worthRetrying(error: unknown, signal: AbortSignal): boolean {
  if (error instanceof OpenAI.APIError) {
    const advice = error.headers?.get("x-should-retry");
    if (advice === "true") return true;
    if (advice === "false") return false;
    // An exhausted quota answers 429 too, and no retry will refill it.
    if (error.code === "insufficient_quota") return false;
  }
  return toBrookError(error, signal).retryable;
}

function toOpenAIMessage(message: ModelMessage): OpenAI.ChatCompletionMessageParam {
  if (message.role === "tool") return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  if (message.role === "assistant" && message.toolCalls !== undefined && message.toolCalls.length > 0) {
    return {
      role: "assistant",
      content: message.content === "" ? null : message.content,
      tool_calls: message.toolCalls.map((toolCall) => ({
        id: toolCall.id,
        type: "function",
        function: { name: toolCall.name, arguments: toolCall.arguments },
      })),
    };
  }
  if (message.role === "user") {
    // Images reach the model server as the caller sent them; text files as text with their name.
    return {
      role: "user",
      content: typeof message.content === "string" ? message.content : openAIParts(message.content),
    };
  }
  return { role: message.role, content: message.content };
}

/** MCP schemas are not written for strict mode (optional fields, open objects): strict is off. */
function toOpenAITool(tool: ModelTool): OpenAI.ChatCompletionFunctionTool {
  return {
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters, strict: false },
  };
}

function toOpenAIToolChoice(choice: ModelToolChoice): OpenAI.ChatCompletionToolChoiceOption {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

function toOpenAIResponseFormat(
  format: ResponseFormat,
): OpenAI.ResponseFormatJSONSchema | OpenAI.ResponseFormatJSONObject {
  if (format.type === "json_object") return format;
  const { name, schema, description, strict } = format;
  return {
    type: "json_schema",
    json_schema: {
      name,
      schema,
      ...(description === undefined ? {} : { description }),
      ...(strict === undefined ? {} : { strict }),
    },
  };
}

/**
 * A page or a JSON document is no answer (a login page of a proxy, a server that ignores
 * `stream`): refused before anything is counted. Servers that label their stream loosely pass.
 */
async function eventStream(response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (/^\s*(text\/html|application\/json)/i.test(type)) {
    await response.body?.cancel().catch(() => {});
    throw new BrookError(
      "upstream_error",
      `The model server answered with ${type.split(";")[0]} instead of an event stream (check OPENAI_BASE_URL).`,
    );
  }
  return response;
}

function isTokenCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Header names as fetch sends them, so that an entry's `Authorization` replaces Brook's. */
function lowerCaseKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) lower[name.toLowerCase()] = value;
  return lower;
}
