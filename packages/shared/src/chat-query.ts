import { z } from "zod";
import { ChatRequest } from "./chat-request.js";

/**
 * `GET /chat/stream`'s query: the fields of a chat request that fit in a URL (EventSource sends no
 * body). Numbers arrive as text and are read as numbers.
 */
export const ChatStreamQuery = ChatRequest.pick({
  message: true,
  system_prompt: true,
  model: true,
  temperature: true,
  max_tokens: true,
  top_p: true,
  presence_penalty: true,
  frequency_penalty: true,
  seed: true,
  stop: true,
  reasoning_effort: true,
});
export type ChatStreamQuery = z.input<typeof ChatStreamQuery>;

/** The header an EventSource sends when it reconnects: the last event id it read (`<run_id>:<seq>`). */
export const LastEventIdHeader = z.object({
  "last-event-id": z.string().max(200).optional(),
});
