import OpenAI from "openai";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";
import { completionChunks } from "./completion-chunks.js";
import { retryDelayMs, waitBeforeRetry } from "./retry.js";
import { toBrookError } from "./upstream-errors.js";

export interface OpenAIChatModelOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  maxRetries: number;
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

  constructor(options: OpenAIChatModelOptions) {
    this.#maxRetries = options.maxRetries;
    this.#client = new OpenAI({
      // Local servers (vLLM, Ollama, llama.cpp) need no key, but the SDK insists on one.
      apiKey: options.apiKey ?? "no-key",
      baseURL: options.baseURL,
      maxRetries: 0,
      // The SDK would print malformed upstream chunks (conversation text) to the console.
      logLevel: "off",
    });
  }

  async *stream(call: ModelCall): AsyncGenerator<ModelPart> {
    const { signal } = call;
    let finished = false;
    try {
      const response = await this.#open(call);
      yield { type: "accepted" };
      for await (const chunk of completionChunks(response)) {
        // Cheap shape checks stand in for a schema parse on this per-token path.
        const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
        const text = choice?.delta?.content;
        if (typeof text === "string" && text !== "") yield { type: "text", text };
        const reason = choice?.finish_reason;
        if (typeof reason === "string" && !finished) {
          finished = true;
          yield { type: "finish", reason };
        }
        const usage = chunk.usage;
        // Usage a server got wrong (missing, negative, fractional) is ignored: Brook counts instead.
        if (usage != null && isTokenCount(usage.prompt_tokens) && isTokenCount(usage.completion_tokens)) {
          yield { type: "usage", inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
        }
      }
    } catch (error) {
      throw toBrookError(error, signal);
    }
  }

  /**
   * Opens the stream, retrying failures that may pass (429, 5xx, connection) before any token:
   * once an answer has started, it is never asked for again. Brook retries itself because the
   * SDK's wait between attempts ignores the AbortSignal.
   */
  async #open(call: ModelCall) {
    const body = {
      model: call.model,
      messages: call.messages,
      stream: true as const,
      stream_options: { include_usage: true },
      ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
      ...(call.maxTokens === undefined ? {} : { max_tokens: call.maxTokens }),
    };
    for (let attempt = 0; ; attempt += 1) {
      try {
        // The raw response: its chunks are read by completionChunks, not by the SDK's Stream.
        return await this.#client.chat.completions.create(body, { signal: call.signal, maxRetries: 0 }).asResponse();
      } catch (error) {
        const retry = attempt < this.#maxRetries && !call.signal.aborted && worthRetrying(error, call.signal);
        const delayMs = retry ? retryDelayMs(error, attempt) : undefined;
        if (delayMs === undefined) throw error;
        await waitBeforeRetry(delayMs, call.signal);
      }
    }
  }
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

function isTokenCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
