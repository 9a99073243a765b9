import type { ParsedChatRequest } from "@brook/shared";
import { InputError } from "../errors/input-error.js";

export interface RequestLimits {
  /** Longest message, system prompt or history entry, in characters. */
  maxMessageChars: number;
  /** Most history entries. */
  maxHistoryMessages: number;
  /** Largest `max_tokens`. */
  maxTokens: number;
}

/** Refuses a request beyond the configured limits with a 400 that names each field. */
export function checkRequestLimits(request: ParsedChatRequest, limits: RequestLimits): void {
  const fields: Record<string, string[]> = {};
  const tooLong = (field: string, text: string | null | undefined) => {
    if (text != null && text.length > limits.maxMessageChars) {
      fields[field] = [`at most ${limits.maxMessageChars} characters (MAX_MESSAGE_CHARS); got ${text.length}`];
    }
  };
  tooLong("message", request.message);
  tooLong("system_prompt", request.system_prompt);
  const history = request.history ?? [];
  if (history.length > limits.maxHistoryMessages) {
    fields.history = [`at most ${limits.maxHistoryMessages} messages (MAX_HISTORY_MESSAGES); got ${history.length}`];
  }
  history.forEach((entry, index) => {
    tooLong(`history.${index}.content`, entry.content);
  });
  if (request.max_tokens != null && request.max_tokens > limits.maxTokens) {
    fields.max_tokens = [`at most ${limits.maxTokens} (MAX_TOKENS_LIMIT); got ${request.max_tokens}`];
  }
  if (Object.keys(fields).length > 0) throw new InputError(fields);
}
