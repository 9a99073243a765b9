import { z } from "zod";
import { ErrorCode } from "./error-catalogue.js";
import { Timing, Usage } from "./usage.js";

/** Any JSON value: a typed answer, whole or parsed so far. */
export const JsonValue = z.json();

/** The seed's start text, kept verbatim. */
export const START_MESSAGE = "开始生成响应...";

export const StartEvent = z.object({
  type: z.literal("start"),
  message: z.string(),
  run_id: z.string(),
  model: z.string(),
});

export const ContentEvent = z.object({
  type: z.literal("content"),
  chunk: z.string(),
});

/** The model's visible thinking (reasoning models), before or between answer text; never part of the answer. */
export const ReasoningEvent = z.object({
  type: z.literal("reasoning"),
  chunk: z.string(),
});

/** A typed answer (`output` in the request) parsed so far: sent when it changed, beside the content events. */
export const ObjectEvent = z.object({
  type: z.literal("object"),
  partial: JsonValue,
});

export const ToolCallEvent = z.object({
  type: z.literal("tool_call"),
  id: z.string(),
  name: z.string(),
  /** JSON text, as the model produced it. */
  arguments: z.string(),
});

/**
 * The run waits for a person to approve or deny a tool call (TOOL_APPROVAL): it follows that
 * call's `tool_call` event; the answer goes to `POST /runs/:run_id/approvals/:approval_id`.
 */
export const ToolApprovalEvent = z.object({
  type: z.literal("tool_approval"),
  /** What the answer names. */
  approval_id: z.string(),
  /** The tool call's id (its `tool_call` event's). */
  id: z.string(),
  name: z.string(),
  /** JSON text, as the model produced it. */
  arguments: z.string(),
  /** The MCP server the tool belongs to. */
  server: z.string().optional(),
});

/**
 * An MCP server asks the user for input during a tool call (`elicitation/create`, form mode): the
 * run waits. It follows that call's `tool_call` event; the answer (accept with `content` matching
 * `requested_schema`, decline or cancel) goes to `POST /runs/:run_id/inputs/:input_id`.
 */
export const InputRequestEvent = z.object({
  type: z.literal("input_request"),
  /** What the answer names. */
  input_id: z.string(),
  /** The tool call's id (its `tool_call` event's). */
  id: z.string(),
  /** The tool's name, as the model called it. */
  name: z.string(),
  /** The MCP server that asks. */
  server: z.string(),
  /** The server's question, for the person. */
  message: z.string(),
  /**
   * What to fill in: a JSON Schema object of flat fields (string, with `enum` or `format`;
   * number; integer; boolean; arrays of enum strings), each with optional `title`,
   * `description` and `default`; `required` lists the fields that must be given.
   */
  requested_schema: z.record(z.string(), JsonValue),
});

/** How a tool call that needed approval was decided: absent on calls that needed none. */
export const ApprovalDecision = z.enum(["approved", "denied", "timed_out"]);

/** A resource an MCP tool pointed to (a `resource_link` in its result), to read or show. */
export const ToolResourceLink = z.object({
  uri: z.string(),
  name: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  mime_type: z.string().optional(),
});
export type ToolResourceLink = z.infer<typeof ToolResourceLink>;

/** An image an MCP tool returned, base64-encoded. */
export const ToolImage = z.object({ mime_type: z.string(), data: z.string() });
export type ToolImage = z.infer<typeof ToolImage>;

export const ToolResultEvent = z.object({
  type: z.literal("tool_result"),
  id: z.string(),
  name: z.string(),
  /** The text the model sees: text parts, other parts described. */
  result: z.string(),
  is_error: z.boolean(),
  /** Present on calls that waited for approval: what was decided (denied and timed out ones never ran). */
  approval: ApprovalDecision.optional(),
  /** The tool's `structuredContent` (a JSON object matching its output schema), when it gave one. */
  structured_content: z.record(z.string(), JsonValue).optional(),
  /** Resources the result links to. */
  resources: z.array(ToolResourceLink).optional(),
  /** Images in the result (those larger than the result limit are only described in `result`). */
  images: z.array(ToolImage).optional(),
});

/** A long tool's progress (MCP progress notifications), at most a few per second per call. */
export const ToolProgressEvent = z.object({
  type: z.literal("tool_progress"),
  /** The tool call's id, as in its `tool_call` event. */
  id: z.string(),
  name: z.string(),
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().optional(),
});

export const CompleteEvent = z.object({
  type: z.literal("complete"),
  full_content: z.string(),
  /** All reasoning chunks joined; present only when the model reasoned. */
  full_reasoning: z.string().optional(),
  usage: Usage,
  finish_reason: z.string(),
  timing: Timing,
  /** The typed answer, checked against the request's `output.schema`; present only when one was asked for. */
  object: JsonValue.optional(),
  /**
   * The model that answered, when it is not the one `start` named: a fallback (MODELS) took over
   * before the first token. Usage and cost are priced at it.
   */
  model: z.string().optional(),
});

export const ErrorEvent = z.object({
  type: z.literal("error"),
  /** Human-readable description. */
  error: z.string(),
  code: ErrorCode,
  retryable: z.boolean(),
  usage: Usage,
  /** The answer's text so far, when it matters (`invalid_output`: the JSON that did not match). */
  full_content: z.string().optional(),
});

export const ChatEvent = z.discriminatedUnion("type", [
  StartEvent,
  ReasoningEvent,
  ContentEvent,
  ObjectEvent,
  ToolCallEvent,
  ToolApprovalEvent,
  InputRequestEvent,
  ToolProgressEvent,
  ToolResultEvent,
  CompleteEvent,
  ErrorEvent,
]);

export type StartEvent = z.infer<typeof StartEvent>;
export type ReasoningEvent = z.infer<typeof ReasoningEvent>;
export type ContentEvent = z.infer<typeof ContentEvent>;
export type ObjectEvent = z.infer<typeof ObjectEvent>;
export type ToolCallEvent = z.infer<typeof ToolCallEvent>;
export type ToolApprovalEvent = z.infer<typeof ToolApprovalEvent>;
export type InputRequestEvent = z.infer<typeof InputRequestEvent>;
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;
export type ToolResultEvent = z.infer<typeof ToolResultEvent>;
export type ToolProgressEvent = z.infer<typeof ToolProgressEvent>;
export type CompleteEvent = z.infer<typeof CompleteEvent>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;
export type ChatEvent = z.infer<typeof ChatEvent>;
export type TerminalEvent = CompleteEvent | ErrorEvent;

export function isTerminal(event: ChatEvent): event is TerminalEvent {
  return event.type === "complete" || event.type === "error";
}

/** Event ids on the wire are `<run_id>:<seq>`. */
export function formatEventId(runId: string, seq: number): string {
  return `${runId}:${seq}`;
}

export function parseEventId(id: string): { runId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const seq = Number(id.slice(colon + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { runId: id.slice(0, colon), seq };
}
