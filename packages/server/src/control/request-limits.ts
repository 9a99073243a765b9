import { InputError } from "../errors/input-error.js";
import { messageText } from "../models/chat-model.js";
import { type AttachmentLimits, checkAttachments } from "./attachment-limits.js";
import { brookFieldNames, type RunRequest } from "./run-request.js";

export interface RequestLimits extends AttachmentLimits {
  /** Longest message, system prompt or history entry, in characters. */
  maxMessageChars: number;
  /** Most history entries. */
  maxHistoryMessages: number;
  /** Largest `max_tokens`. */
  maxTokens: number;
}

/** Refuses a request beyond the configured limits with a 400 that names each field. */
export function checkRequestLimits(request: RunRequest, limits: RequestLimits): void {
  const fields: Record<string, string[]> = {};
  const names = request.fieldNames === undefined ? brookFieldNames : { ...brookFieldNames, ...request.fieldNames };
  const tooLong = (field: string, text: string | null | undefined) => {
    if (text != null && text.length > limits.maxMessageChars) {
      fields[field] = [`at most ${limits.maxMessageChars} characters (MAX_MESSAGE_CHARS); got ${text.length}`];
    }
  };
  const { conversation } = request;
  // A conversation holds the message: its entries are checked instead.
  if (conversation === undefined) tooLong(names.message, request.message);
  tooLong(names.system_prompt, request.system_prompt);
  if (conversation !== undefined && conversation.length > limits.maxHistoryMessages + 1) {
    fields[names.messages] = [
      `at most ${limits.maxHistoryMessages + 1} messages (MAX_HISTORY_MESSAGES, and the new one); got ${conversation.length}`,
    ];
  }
  conversation?.forEach((entry, index) => {
    tooLong(names.content(index), entry.role === "user" ? messageText(entry.content) : entry.content);
    if (entry.role === "assistant") {
      entry.toolCalls?.forEach((call, at) => {
        tooLong(names.toolArguments(index, at), call.arguments);
      });
    }
  });
  const history = request.history ?? [];
  if (history.length > limits.maxHistoryMessages) {
    fields.history = [`at most ${limits.maxHistoryMessages} messages (MAX_HISTORY_MESSAGES); got ${history.length}`];
  }
  history.forEach((entry, index) => {
    const { content } = entry;
    tooLong(
      `history.${index}.content`,
      typeof content === "string" ? content : content.map((part) => (part.type === "text" ? part.text : "")).join(""),
    );
  });
  checkAttachments(request, limits, names.part, fields);
  if (request.max_tokens != null && request.max_tokens > limits.maxTokens) {
    fields[names.max_tokens] = [`at most ${limits.maxTokens} (MAX_TOKENS_LIMIT); got ${request.max_tokens}`];
  }
  if (Object.keys(fields).length > 0) throw new InputError(fields);
}
