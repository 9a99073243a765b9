import { z } from "zod";
import { ChatRequest } from "./chat-request.js";
import { ErrorCode } from "./error-catalogue.js";
import { Usage } from "./usage.js";

/**
 * tRPC merges a reconnecting reader's last event id (`<run_id>:<seq>`) into subscription input;
 * the schema must declare it or Zod strips it.
 */
const LastEventId = { lastEventId: z.string().max(200).nullish() };

export const RunRef = z.object({ run_id: z.string().min(1).max(100) });
export type RunRef = z.infer<typeof RunRef>;

/** `chat.stream` input: a request, or where to resume it. */
export const ChatStreamInput = ChatRequest.extend(LastEventId);
export type ChatStreamInput = z.input<typeof ChatStreamInput>;

/** `chat.events` input: a run, read from the start or after `lastEventId`. */
export const RunEventsInput = RunRef.extend(LastEventId);
export type RunEventsInput = z.input<typeof RunEventsInput>;

/** `chat.start` output. */
export const StartResult = RunRef;
export type StartResult = z.infer<typeof StartResult>;

/** `chat.cancel` output: `cancelled` is false when the run had already ended. */
export const CancelResult = RunRef.extend({ cancelled: z.boolean() });
export type CancelResult = z.infer<typeof CancelResult>;

/** The `data` of every tRPC error Brook sends. */
export const TrpcErrorData = z.object({
  code: z.string(),
  httpStatus: z.number().int(),
  path: z.string().optional(),
  brook_code: ErrorCode.optional(),
  retryable: z.boolean(),
  /** For invalid input: which fields, and what is wrong with each. */
  fields: z.record(z.string(), z.array(z.string())).optional(),
  /** For a failed run: what it had used. */
  usage: Usage.optional(),
  /** For `invalid_output`: the answer's text that did not match. */
  full_content: z.string().optional(),
});
export type TrpcErrorData = z.infer<typeof TrpcErrorData>;
