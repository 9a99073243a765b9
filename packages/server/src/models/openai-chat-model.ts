import OpenAI from "openai";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";
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

  constructor(options: OpenAIChatModelOptions) {
    this.#client = new OpenAI({
      // Local servers (vLLM, Ollama, llama.cpp) need no key, but the SDK insists on one.
      apiKey: options.apiKey ?? "no-key",
      baseURL: options.baseURL,
      maxRetries: options.maxRetries,
      // The SDK would print malformed upstream chunks (conversation text) to the console.
      logLevel: "off",
    });
  }

  async *stream(call: ModelCall): AsyncGenerator<ModelPart> {
    const { signal } = call;
    let finished = false;
    try {
      const stream = await this.#client.chat.completions.create(
        {
          model: call.model,
          messages: call.messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
          ...(call.maxTokens === undefined ? {} : { max_tokens: call.maxTokens }),
        },
        { signal },
      );
      for await (const chunk of stream) {
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
}

function isTokenCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
