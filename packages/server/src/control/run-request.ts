import type { ParsedChatRequest } from "@brook/shared";
import type { ModelMessage, ModelTool, ModelToolChoice } from "../models/chat-model.js";
import type { ResponseFormat, StructuredOutput } from "../models/structured-output.js";

/**
 * What a run is asked to do. Brook's own surfaces (REST, tRPC) ask with a ParsedChatRequest; the
 * surfaces of other ecosystems (the AI SDK's, OpenAI's) carry a whole conversation and more, in
 * the fields below. None of them changes what Brook's own wire formats accept or send.
 */
export interface RunRequest extends Omit<ParsedChatRequest, "reasoning_effort"> {
  /**
   * The whole conversation, with earlier tool calls and their results: it takes the place of
   * `history` and `message` (which then holds the last user text, for the log). A system message
   * in it takes the place of `system_prompt` and of the default.
   */
  conversation?: readonly ModelMessage[] | undefined;
  /**
   * The caller's own function tools, offered beside the MCP tools (a caller's tool hides an MCP
   * tool of the same name). When the model calls one, the run ends there: its `tool_call`
   * events, then `complete` with finish reason `tool_calls`; the caller runs them and asks again.
   */
  callerTools?: readonly ModelTool[] | undefined;
  /** Whether the model must call a tool, on the run's first model call (later ones choose freely). */
  toolChoice?: ModelToolChoice | undefined;
  /** Whether the model may call several tools at once (OpenAI's `parallel_tool_calls`), on every model call offering tools. */
  parallelToolCalls?: boolean | undefined;
  /**
   * How much a reasoning model thinks, passed on to every model call of the run: Brook's own
   * surfaces take `low`, `medium` or `high`; OpenAI's passes on what its callers send.
   */
  reasoning_effort?: string | null | undefined;
  /** How long an answer the model should write (the Responses API's `text.verbosity`), passed on to every model call. */
  verbosity?: string | undefined;
  /**
   * The caller can be asked to approve tool calls (it sees `tool_approval` events and knows the
   * run's id): tools that need approval are offered. Otherwise they are not offered at all.
   */
  approvals?: boolean | undefined;
  /** `output`, its schema compiled: set when the run starts (a bad schema is refused there). */
  structuredOutput?: StructuredOutput | undefined;
  /** OpenAI's `json_object` format, passed on as it is (`/v1`): JSON, but no schema to check. */
  responseFormat?: Extract<ResponseFormat, { type: "json_object" }> | undefined;
  /** Where this surface's caller put the fields the request limits check (the decoder knows; Brook's names otherwise). */
  fieldNames?: Partial<RequestFieldNames> | undefined;
}

/** The caller's name of each field a limit may refuse, as the surface's body spells it. */
export interface RequestFieldNames {
  message: string;
  system_prompt: string;
  max_tokens: string;
  /** The schema of a typed answer. */
  output_schema: string;
  /** The conversation as a whole. */
  messages: string;
  /** The text of conversation entry `index`. */
  content(index: number): string;
  /** Part `at` (an image or a file) of conversation entry `index`. */
  part(index: number, at: number): string;
  /** The arguments of tool call `call` of conversation entry `index`. */
  toolArguments(index: number, call: number): string;
}

/** Brook's own names (REST, tRPC). */
export const brookFieldNames: RequestFieldNames = {
  message: "message",
  system_prompt: "system_prompt",
  max_tokens: "max_tokens",
  output_schema: "output.schema",
  messages: "messages",
  content: (index) => `messages.${index}.content`,
  part: (index, at) => `messages.${index}.content.${at}`,
  toolArguments: (index, call) => `messages.${index}.tool_calls.${call}.arguments`,
};
