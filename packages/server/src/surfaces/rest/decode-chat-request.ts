import { ChatRequest, type ParsedChatRequest } from "@brook/shared";
import { InputError } from "../../errors/input-error.js";

/** A `POST /chat` or `POST /chat/stream` body as Brook's request; invalid fields answer 400. */
export function decodeChatBody(body: unknown): ParsedChatRequest {
  return InputError.parse(ChatRequest, body);
}

/**
 * `GET /chat/stream?message=…` as Brook's request. Query strings carry text only: numbers are
 * converted so that the schema can judge them.
 */
export function decodeChatQuery(query: unknown): ParsedChatRequest {
  const fields = typeof query === "object" && query !== null ? (query as Record<string, unknown>) : {};
  const number = (value: unknown) => (typeof value === "string" && value !== "" ? Number(value) : undefined);
  return decodeChatBody({
    message: fields.message,
    system_prompt: fields.system_prompt,
    model: fields.model,
    temperature: number(fields.temperature),
    max_tokens: number(fields.max_tokens),
    top_p: number(fields.top_p),
    presence_penalty: number(fields.presence_penalty),
    frequency_penalty: number(fields.frequency_penalty),
    seed: number(fields.seed),
    stop: fields.stop,
    reasoning_effort: fields.reasoning_effort,
  });
}
