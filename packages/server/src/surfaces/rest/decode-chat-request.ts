import { ChatRequest, ChatStreamQuery, type ParsedChatRequest } from "@brook/shared";
import { InputError } from "../../errors/input-error.js";

/** A `POST /chat` or `POST /chat/stream` body as Brook's request; invalid fields answer 400. */
export function decodeChatBody(body: unknown): ParsedChatRequest {
  return InputError.parse(ChatRequest, body);
}

/** The query's fields that are numbers (a query string carries text only). */
const numeric = new Set(["temperature", "max_tokens", "top_p", "presence_penalty", "frequency_penalty", "seed"]);

/**
 * `GET /chat/stream?message=…` as Brook's request: the fields of `ChatStreamQuery` (as the
 * OpenAPI document describes them). Numbers are converted so that the schema can judge them.
 */
export function decodeChatQuery(query: unknown): ParsedChatRequest {
  const fields = typeof query === "object" && query !== null ? (query as Record<string, unknown>) : {};
  const number = (value: unknown) => (typeof value === "string" && value !== "" ? Number(value) : undefined);
  const request: Record<string, unknown> = {};
  for (const name of Object.keys(ChatStreamQuery.shape)) {
    request[name] = numeric.has(name) ? number(fields[name]) : fields[name];
  }
  return decodeChatBody(request);
}
