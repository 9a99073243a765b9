/**
 * The AI SDK's UI message stream (protocol v1), as Brook speaks it at `/api/chat`: the body
 * `useChat` posts, and the chunks Brook answers with. Only chunk types and fields that `ai` 5, 6
 * and 7 all accept are listed (older releases validate chunks strictly).
 */
import { z } from "zod";
import { ChatRequest } from "./chat-request.js";
import { maxApprovalReasonChars } from "./run-control.js";
import { Timing, Usage } from "./usage.js";

/** A text part of a UI message. */
export const UITextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
export type UITextPart = z.infer<typeof UITextPart>;

/** A file the user attached (`useChat`'s `sendMessage({ files })`): a `data:` URL or a hosted one. */
export const UIFilePart = z.looseObject({
  type: z.literal("file"),
  mediaType: z.string().trim().min(1).max(255),
  url: z.string().min(1),
  filename: z.string().trim().min(1).max(255).nullish(),
});
export type UIFilePart = z.infer<typeof UIFilePart>;

/** The states of a tool part (`input-streaming` … `output-error`, approvals in newer releases). */
const toolPartFields = {
  toolCallId: z.string().min(1).max(200),
  state: z.string(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  errorText: z.string().nullish(),
};

/** A person's answer in a tool part of state `approval-responded` (`addToolApprovalResponse`). */
export const UIToolApproval = z.looseObject({
  id: z.string().min(1).max(100),
  approved: z.boolean(),
  reason: z.string().max(maxApprovalReasonChars).nullish(),
});
export type UIToolApproval = z.infer<typeof UIToolApproval>;

/** A tool call of a tool the client does not know statically (Brook's MCP tools are sent as these). */
export const UIDynamicToolPart = z.looseObject({
  type: z.literal("dynamic-tool"),
  toolName: z.string().min(1).max(200),
  ...toolPartFields,
});
export type UIDynamicToolPart = z.infer<typeof UIDynamicToolPart>;

/** A tool call of a tool the client declared (`tool-<name>`). */
export const UIStaticToolPart = z.looseObject({
  type: z.string().regex(/^tool-.{1,200}$/),
  ...toolPartFields,
});
export type UIStaticToolPart = z.infer<typeof UIStaticToolPart>;

/**
 * A part of a UI message: text and tool parts are checked as such; any other (step markers,
 * reasoning, sources, files, data parts…) only has a type here, and Brook reads no text from it.
 */
export const UIMessagePart = z.looseObject({ type: z.string().min(1) }).superRefine((part, context) => {
  const schema =
    part.type === "text"
      ? UITextPart
      : part.type === "dynamic-tool"
        ? UIDynamicToolPart
        : part.type.startsWith("tool-")
          ? UIStaticToolPart
          : undefined;
  const result = schema?.safeParse(part);
  for (const issue of result?.error?.issues ?? []) {
    context.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }
});
export type UIMessagePart = z.infer<typeof UIMessagePart>;

export const UIMessage = z.looseObject({
  id: z.string().max(200),
  role: z.enum(["system", "user", "assistant"]),
  parts: z.array(UIMessagePart).max(1_000),
});
export type UIMessage = z.infer<typeof UIMessage>;

/** Brook's options for an answer, in the body's `brook` field (useChat's `body` option). */
export const UIChatOptions = ChatRequest.pick({
  system_prompt: true,
  model: true,
  temperature: true,
  max_tokens: true,
  tools: true,
  output: true,
});
export type UIChatOptions = z.input<typeof UIChatOptions>;

/** A chat id travels in URLs (`/api/chat/:id/stream`): one path segment. */
export const UIChatId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/?#\s]+$/, "a chat id is one URL path segment (no /, ?, # or spaces)");

/**
 * What `useChat` (any `DefaultChatTransport`) POSTs: the chat's id, its messages (the new user
 * message last), why it sends them, and whatever the app's `body` adds (Brook reads `brook`).
 */
export const UIChatRequest = z.looseObject({
  id: UIChatId,
  messages: z.array(UIMessage).min(1),
  trigger: z.enum(["submit-message", "regenerate-message"]).nullish(),
  messageId: z.string().max(200).nullish(),
  brook: UIChatOptions.nullish(),
});
export type UIChatRequest = z.input<typeof UIChatRequest>;

/**
 * Brook's `messageMetadata` of an answer: the run and model at `start`, usage and timing (and,
 * for a failed answer, usage only) before the end. The client merges them into `message.metadata`.
 */
export const BrookMessageMetadata = z.object({
  run_id: z.string().optional(),
  model: z.string().optional(),
  usage: Usage.optional(),
  timing: Timing.optional(),
  /** Brook's own finish reason (`stop`, `length`, `max_tool_steps`…). */
  finish_reason: z.string().optional(),
});
export type BrookMessageMetadata = z.infer<typeof BrookMessageMetadata>;

/** The finish reasons every `ai` release accepts. */
export const UIFinishReason = z.enum(["stop", "length", "content-filter", "tool-calls", "error", "other"]);
export type UIFinishReason = z.infer<typeof UIFinishReason>;

/** The chunks Brook sends, one per SSE `data:` line; strict, like the AI SDK's older releases. */
export const UIMessageChunk = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("start"), messageId: z.string(), messageMetadata: BrookMessageMetadata }),
  z.strictObject({ type: z.literal("start-step") }),
  z.strictObject({ type: z.literal("finish-step") }),
  z.strictObject({ type: z.literal("text-start"), id: z.string() }),
  z.strictObject({ type: z.literal("text-delta"), id: z.string(), delta: z.string() }),
  z.strictObject({ type: z.literal("text-end"), id: z.string() }),
  z.strictObject({ type: z.literal("reasoning-start"), id: z.string() }),
  z.strictObject({ type: z.literal("reasoning-delta"), id: z.string(), delta: z.string() }),
  z.strictObject({ type: z.literal("reasoning-end"), id: z.string() }),
  z.strictObject({
    type: z.literal("tool-input-available"),
    toolCallId: z.string(),
    toolName: z.string(),
    input: z.unknown(),
    providerExecuted: z.literal(true),
    dynamic: z.literal(true),
  }),
  z.strictObject({
    type: z.literal("tool-output-available"),
    toolCallId: z.string(),
    output: z.unknown(),
    providerExecuted: z.literal(true),
    dynamic: z.literal(true),
  }),
  /** A tool call waits for a person (TOOL_APPROVAL): `ai` 6 and newer only. */
  z.strictObject({ type: z.literal("tool-approval-request"), approvalId: z.string(), toolCallId: z.string() }),
  /** A denied (or timed out) call: it never ran. `ai` 6 and newer only. */
  z.strictObject({ type: z.literal("tool-output-denied"), toolCallId: z.string() }),
  z.strictObject({
    type: z.literal("tool-output-error"),
    toolCallId: z.string(),
    errorText: z.string(),
    providerExecuted: z.literal(true),
    dynamic: z.literal(true),
  }),
  /** A typed answer (`brook.output`) so far: one data part, updated in place by its id. */
  z.strictObject({ type: z.literal("data-object"), id: z.string(), data: z.unknown() }),
  /** A tool's progress (`tool_progress`), keyed by the call's id; transient: never kept in the message. */
  z.strictObject({
    type: z.literal("data-tool-progress"),
    id: z.string(),
    data: z.object({
      name: z.string(),
      progress: z.number(),
      total: z.number().optional(),
      message: z.string().optional(),
    }),
    transient: z.literal(true),
  }),
  /**
   * An MCP server's question during a tool call (`input_request`), keyed by its `input_id`: the
   * run waits, the response stays open, and the answer goes to `POST /runs/:run_id/inputs/:input_id`.
   */
  z.strictObject({
    type: z.literal("data-input-request"),
    id: z.string(),
    data: z.object({
      run_id: z.string(),
      tool_call_id: z.string(),
      name: z.string(),
      server: z.string(),
      message: z.string(),
      requested_schema: z.record(z.string(), z.unknown()),
    }),
  }),
  z.strictObject({ type: z.literal("message-metadata"), messageMetadata: BrookMessageMetadata }),
  z.strictObject({ type: z.literal("finish"), finishReason: UIFinishReason, messageMetadata: BrookMessageMetadata }),
  z.strictObject({ type: z.literal("abort") }),
  z.strictObject({ type: z.literal("error"), errorText: z.string() }),
]);
export type UIMessageChunk = z.infer<typeof UIMessageChunk>;

/** The response headers of a UI message stream. */
export const uiMessageStreamHeader = { "x-vercel-ai-ui-message-stream": "v1" } as const;
