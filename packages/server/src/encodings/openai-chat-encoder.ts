import type {
  ChatEvent,
  CompleteEvent,
  OpenAIChatCompletion,
  OpenAIChatCompletionChunk,
  OpenAIFinishReason,
  OpenAIUsage,
  Usage,
} from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { asBrookError, fromErrorEvent, openAIErrorBody } from "../errors/error-shapes.js";
import type { RunFold } from "./fold-run.js";
import { sse } from "./sse-frame.js";
import { eventStreamHeaders, type StreamEncoder } from "./stream-encoder.js";

export interface OpenAIAnswerOptions {
  /** `chatcmpl-…`, the same in every chunk. */
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  /** The caller's own function tools: only calls of these are shown. */
  callerTools: ReadonlySet<string>;
}

type ToolCall = NonNullable<OpenAIChatCompletion["choices"][number]["message"]["tool_calls"]>[number];

/**
 * What a caller of OpenAI's API sees of a run: one assistant message. Brook's own MCP tool calls
 * and their results stay inside (LiteLLM shows them, and clients then show an empty reply);
 * the text of the model calls around them reads as one answer, paragraphs apart. Only calls of
 * the caller's own tools are shown, and they end the answer.
 */
class OpenAIAnswer {
  readonly toolCalls: ToolCall[] = [];
  #wroteText = false;
  /** Brook's tools ran since the last text: the next text is a new paragraph. */
  #toolsRan = false;

  constructor(readonly options: OpenAIAnswerOptions) {}

  /** The piece of text as the caller gets it. */
  text(chunk: string): string {
    const paragraph = this.#toolsRan && this.#wroteText ? "\n\n" : "";
    this.#toolsRan = false;
    this.#wroteText = true;
    return paragraph + chunk;
  }

  /** A tool call of the caller's (shown) or of Brook's (kept inside: undefined). */
  toolCall(event: Extract<ChatEvent, { type: "tool_call" }>): ToolCall | undefined {
    if (!this.options.callerTools.has(event.name)) {
      this.#toolsRan = true;
      return undefined;
    }
    const call: ToolCall = {
      id: event.id,
      type: "function",
      function: { name: event.name, arguments: event.arguments },
    };
    this.toolCalls.push(call);
    return call;
  }

  finishReason(event: CompleteEvent): OpenAIFinishReason {
    if (this.toolCalls.length > 0) return "tool_calls";
    switch (event.finish_reason) {
      case "stop":
      case "length":
      case "content_filter":
        return event.finish_reason;
      // The model kept asking for Brook's tools: the answer was cut by a limit.
      case "max_tool_steps":
        return "length";
      default:
        return "stop";
    }
  }
}

function openAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_input_tokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
    cost: usage.total_cost,
  };
}

const headers = { "content-type": "text/event-stream; charset=utf-8", ...eventStreamHeaders } as const;

/**
 * OpenAI's streamed chat completion, chunk for chunk as OpenAI sends it: `role` in the first
 * delta, text deltas, the caller's tool calls, a last choice with its `finish_reason`, with
 * `includeUsage` a usage chunk without choices (earlier chunks `usage: null`), then `[DONE]`.
 * A failure is one `data: {"error": …}` event, and the response ends without `[DONE]`.
 */
export function openAIChunkEncoder(options: OpenAIAnswerOptions & { includeUsage: boolean }): StreamEncoder {
  const answer = new OpenAIAnswer(options);
  const envelope = { id: options.id, object: "chat.completion.chunk", created: options.created, model: options.model };
  const usageNull = options.includeUsage ? { usage: null } : {};
  const chunk = (delta: OpenAIChatCompletionChunk["choices"][number]["delta"], finish: OpenAIFinishReason | null) =>
    frame({
      ...envelope,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageNull,
    });
  // Text is most of a stream: its chunks are two constant strings around the text's JSON.
  const [textHead, textTail] = chunk({ content: "\u0000" }, null).split('"\\u0000"') as [string, string];
  let failed = false;
  return {
    headers,
    start: () => "",
    event(event: ChatEvent): string {
      switch (event.type) {
        case "content":
          return textHead + JSON.stringify(answer.text(event.chunk)) + textTail;
        case "reasoning":
          return chunk({ reasoning_content: event.chunk }, null);
        case "start":
          return chunk({ role: "assistant", content: "" }, null);
        case "tool_call": {
          const call = answer.toolCall(event);
          if (call === undefined) return "";
          return chunk({ tool_calls: [{ index: answer.toolCalls.length - 1, ...call }] }, null);
        }
        case "tool_result":
        // Tools that need approval are not offered here: nobody could answer.
        case "tool_approval":
        // Nobody is asked here: MCP servers' questions are declined (the tool result says so).
        case "input_request":
        case "tool_progress":
        // The content carries the JSON text already.
        case "object":
          return "";
        case "complete": {
          const last = chunk({}, answer.finishReason(event));
          if (!options.includeUsage) return last;
          return (
            last + frame({ ...envelope, object: "chat.completion.chunk", choices: [], usage: openAIUsage(event.usage) })
          );
        }
        case "error":
          failed = true;
          return errorFrame(fromErrorEvent(event));
      }
    },
    end: () => (failed ? "" : sse.done),
    ping: sse.ping,
    failure(thrown) {
      failed = true;
      return errorFrame(asBrookError(thrown).error);
    },
  };
}

function frame(chunk: OpenAIChatCompletionChunk): string {
  return sse.data(JSON.stringify(chunk));
}

function errorFrame(error: BrookError): string {
  return sse.data(JSON.stringify(openAIErrorBody(error)));
}

/**
 * OpenAI's answer without `stream`: a run folded into one chat completion (see `foldRun`).
 * A failed run throws its BrookError (with the usage it had).
 */
export class OpenAICompletionFold implements RunFold<OpenAIChatCompletion> {
  readonly #answer: OpenAIAnswer;
  readonly #texts: string[] = [];
  readonly #reasoning: string[] = [];
  #result: OpenAIChatCompletion | undefined;
  #error: BrookError | undefined;

  constructor(private readonly options: OpenAIAnswerOptions) {
    this.#answer = new OpenAIAnswer(options);
  }

  event(event: ChatEvent): void {
    switch (event.type) {
      case "content":
        this.#texts.push(this.#answer.text(event.chunk));
        break;
      case "reasoning":
        this.#reasoning.push(event.chunk);
        break;
      case "tool_call":
        this.#answer.toolCall(event);
        break;
      case "complete":
        this.#result = this.#completion(event);
        break;
      case "error":
        this.#error = fromErrorEvent(event);
        break;
      default:
        break;
    }
  }

  result(): OpenAIChatCompletion {
    if (this.#error !== undefined) throw this.#error;
    if (this.#result === undefined) throw new BrookError("internal", "The run ended without an answer.");
    return this.#result;
  }

  #completion(event: CompleteEvent): OpenAIChatCompletion {
    const { options } = this;
    const answer = this.#answer;
    const content = this.#texts.join("");
    return {
      id: options.id,
      object: "chat.completion",
      created: options.created,
      // A fallback's answer names it (MODELS).
      model: event.model ?? options.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: content === "" && answer.toolCalls.length > 0 ? null : content,
            refusal: null,
            ...(this.#reasoning.length > 0 ? { reasoning_content: this.#reasoning.join("") } : {}),
            ...(answer.toolCalls.length > 0 ? { tool_calls: answer.toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: answer.finishReason(event),
        },
      ],
      usage: openAIUsage(event.usage),
    };
  }
}
