import { z } from "zod";
import { JsonValue, ToolCallEvent, ToolResultEvent } from "./chat-event.js";
import { ErrorCode } from "./error-catalogue.js";
import { Timing, Usage } from "./usage.js";

/** The answer of the non-streaming routes (`POST /chat`, `chat.complete`). */
export const ChatResult = z.object({
  response: z.string(),
  /** The model's thinking (reasoning models); present only when it reasoned. */
  reasoning: z.string().optional(),
  usage: Usage,
  model: z.string(),
  run_id: z.string(),
  finish_reason: z.string(),
  timing: Timing,
  /** The typed answer (`output` in the request), checked against its schema. */
  object: JsonValue.optional(),
  tool_calls: z
    .array(
      z.object({
        call: ToolCallEvent.omit({ type: true }),
        result: ToolResultEvent.omit({ type: true }).nullable(),
      }),
    )
    .optional(),
});
export type ChatResult = z.infer<typeof ChatResult>;

/** The JSON body of every failed REST request. */
export const ErrorBody = z.object({
  error: z.string(),
  code: ErrorCode,
  retryable: z.boolean(),
  /** Present when a run had started: what it had used. */
  usage: Usage.optional(),
  /** For invalid input: which fields, and what is wrong with each. */
  fields: z.record(z.string(), z.array(z.string())).optional(),
  /** The answer's text, when it matters (`invalid_output`: the JSON that did not match). */
  full_content: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
