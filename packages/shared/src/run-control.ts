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

/** The longest reason a person may give for a denial. */
export const maxApprovalReasonChars = 2_000;

/** An answer to a `tool_approval` event (the body of `POST /runs/:run_id/approvals/:approval_id`). */
export const ApprovalAnswer = z.object({
  approved: z.boolean(),
  /** Why (shown to the model with a denial). */
  reason: z.string().max(maxApprovalReasonChars).optional(),
});
export type ApprovalAnswer = z.infer<typeof ApprovalAnswer>;

/** `chat.approve` input: the run, the approval, the answer. */
export const ApproveInput = RunRef.extend({ approval_id: z.string().min(1).max(100) }).extend(ApprovalAnswer.shape);
export type ApproveInput = z.infer<typeof ApproveInput>;

/** What answering an approval returns (REST and `chat.approve`). */
export const ApproveResult = z.object({ run_id: z.string(), approval_id: z.string(), approved: z.boolean() });
export type ApproveResult = z.infer<typeof ApproveResult>;

/** One answered field of an `input_request`: text, a number, a yes/no, or several choices. */
export const InputValue = z.union([
  z.string().max(10_000),
  z.number(),
  z.boolean(),
  z.array(z.string().max(1_000)).max(100),
]);
export type InputValue = z.infer<typeof InputValue>;

/**
 * An answer to an `input_request` event (the body of `POST /runs/:run_id/inputs/:input_id`):
 * `accept` with `content` that fits the requested schema (fields left out take their `default`),
 * `decline` (the person said no) or `cancel` (dismissed without choosing).
 */
export const InputAnswer = z.object({
  action: z.enum(["accept", "decline", "cancel"]),
  /** The fields, by name; only with `accept`. */
  content: z.record(z.string(), InputValue).optional(),
});
export type InputAnswer = z.infer<typeof InputAnswer>;

/** `chat.answerInput` input: the run, the input, the answer. */
export const AnswerInputInput = RunRef.extend({ input_id: z.string().min(1).max(100) }).extend(InputAnswer.shape);
export type AnswerInputInput = z.infer<typeof AnswerInputInput>;

/** What answering an input returns (REST and `chat.answerInput`). */
export const AnswerInputResult = z.object({
  run_id: z.string(),
  input_id: z.string(),
  action: InputAnswer.shape.action,
});
export type AnswerInputResult = z.infer<typeof AnswerInputResult>;

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
