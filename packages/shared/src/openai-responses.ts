/**
 * OpenAI's Responses API, as Brook serves it at `/v1/responses`: the request body it accepts, the
 * response object and the stream's semantic events. Brook is stateless: nothing is stored, so the
 * fields that need a stored response (`store: true`, `previous_response_id`, `background`…) are
 * refused by name, like every field Brook cannot honour.
 */
import { z } from "zod";
import { FileContentPart, ImageContentPart, ImageDetail } from "./attachments.js";
import { OutputSpec, TopP } from "./chat-request.js";

const messageParts =
  "a message's parts are input_text, input_image and input_file (a user's), output_text and refusal (an answer's)";

const noStoredFiles = "Brook stores no files: send the bytes as a base64 data: URL";

/**
 * Refuses the fields that name a stored or fetched file, and asks for `field`, as custom issues
 * (a type error would hide the reason behind the content's union).
 */
function inlineOnly(field: string, refused: readonly string[]) {
  return (part: Record<string, unknown>, context: z.core.$RefinementCtx) => {
    for (const name of refused) {
      if (part[name] != null) {
        context.addIssue({
          code: "custom",
          path: [name],
          message: `${name} is not supported: ${noStoredFiles} in ${field}`,
        });
      }
    }
    if (part[field] === undefined) context.addIssue({ code: "custom", path: [field], message: `${field} is required` });
  };
}

/** An image of a user's: a `data:` URL or an `https:` URL, checked as `/v1/chat/completions` checks `image_url`. */
const OpenAIResponsesInputImage = z
  .looseObject({
    type: z.literal("input_image"),
    image_url: ImageContentPart.shape.image_url.shape.url.optional(),
    detail: ImageDetail.nullish(),
  })
  .superRefine(inlineOnly("image_url", ["file_id"]));

/** A text-like file of a user's, as a base64 `data:` URL with its name: the model gets its text. */
const OpenAIResponsesInputFile = z
  .looseObject({
    type: z.literal("input_file"),
    filename: FileContentPart.shape.file.shape.filename,
    file_data: FileContentPart.shape.file.shape.file_data.optional(),
  })
  .superRefine(inlineOnly("file_data", ["file_id", "file_url"]));

/** A part of a message: what the caller wrote or attached, an earlier answer's text, or its refusal. */
const MessagePart = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("input_text"), text: z.string() }),
    OpenAIResponsesInputImage,
    OpenAIResponsesInputFile,
    z.looseObject({ type: z.literal("output_text"), text: z.string() }),
    z.looseObject({ type: z.literal("refusal"), refusal: z.string() }),
  ],
  { error: messageParts },
);

const CallId = z.string().min(1).max(200);

/** A message of the conversation (`type` may be left out, as in OpenAI's "easy" input messages). */
export const OpenAIResponsesMessageItem = z.looseObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(MessagePart).max(1_000)], {
    error: `a string or a list of parts: ${messageParts}`,
  }),
});

/** A call of the caller's function, from an earlier response. */
export const OpenAIResponsesFunctionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: CallId,
  name: z.string().min(1).max(200),
  arguments: z.string(),
});

/** The caller's result of one function call. */
export const OpenAIResponsesFunctionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: CallId,
  output: z.union(
    [z.string(), z.array(z.looseObject({ type: z.literal("input_text"), text: z.string() })).max(1_000)],
    { error: "a string or a list of input_text parts: Brook passes text to the model" },
  ),
});

/** An earlier response's reasoning, sent back by clients that keep whole turns: accepted, not passed on. */
export const OpenAIResponsesReasoningItem = z.looseObject({ type: z.literal("reasoning") });

const inputItemTypes = "message, function_call, function_call_output and reasoning";

export const OpenAIResponsesInputItem = z.preprocess(
  // A message without `type` is a message.
  (item) =>
    item !== null && typeof item === "object" && !("type" in item) && "role" in item
      ? { ...item, type: "message" }
      : item,
  z.discriminatedUnion(
    "type",
    [
      OpenAIResponsesMessageItem,
      OpenAIResponsesFunctionCallItem,
      OpenAIResponsesFunctionCallOutputItem,
      OpenAIResponsesReasoningItem,
    ],
    { error: `Brook takes input items of type ${inputItemTypes} (no stored items)` },
  ),
);
export type OpenAIResponsesInputItem = z.output<typeof OpenAIResponsesInputItem>;

/** The conversation as items (a string `input` is one user message). */
export const OpenAIResponsesInputItems = z.array(OpenAIResponsesInputItem).min(1).max(10_000);

/** A function tool of the caller's: when the model calls it, the response ends with a `function_call` item. */
export const OpenAIResponsesFunctionTool = z.looseObject({
  type: z.literal("function", "only function tools are supported (Brook's own tools are its MCP servers')"),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, _ or -"),
  description: z.string().max(100_000).nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
export type OpenAIResponsesFunctionTool = z.infer<typeof OpenAIResponsesFunctionTool>;

export const OpenAIResponsesToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), name: z.string().min(1).max(200) }),
]);
export type OpenAIResponsesToolChoice = z.infer<typeof OpenAIResponsesToolChoice>;

const notPassedOn = "Brook does not pass this option on to the model";

/**
 * A looseObject of `fields` that refuses any other field set to something (null counts as unset),
 * naming it, with the reason from `refused` when there is one.
 */
function onlyFields<T extends z.ZodRawShape>(fields: T, refused: Record<string, string> = {}) {
  return z.looseObject(fields).superRefine((body, context) => {
    for (const [field, value] of Object.entries(body)) {
      if (field in fields || value === null || value === undefined) continue;
      const reason = refused[field] ?? notPassedOn;
      context.addIssue({ code: "custom", path: [field], message: `${field} is not supported: ${reason}` });
    }
  });
}

const ReasoningEffortOption = z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]);
const SummaryOption = z.enum(["auto", "concise", "detailed"]);

/** `text.format`: `json_schema` is a typed answer, checked like Brook's `output`. */
const TextFormat = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("text") }),
    z.looseObject({ type: z.literal("json_object") }),
    z.looseObject({
      type: z.literal("json_schema"),
      name: OutputSpec.shape.name.unwrap().unwrap(),
      schema: OutputSpec.shape.schema,
      description: OutputSpec.shape.description,
      strict: OutputSpec.shape.strict,
    }),
  ],
  { error: "text.format.type must be text, json_object or json_schema" },
);

const stateless = "Brook is stateless and stores no responses";

const requestFields = {
  model: z.string().trim().min(1).max(200).nullish(),
  input: z.union([z.string().min(1, "input must not be empty"), OpenAIResponsesInputItems]),
  /** A system message before the input. */
  instructions: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: onlyFields({ include_obfuscation: z.boolean().nullish() }).nullish(),
  // Passed on to the model server.
  temperature: z.number().min(0).max(2).nullish(),
  top_p: TopP.nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  tools: z
    .array(OpenAIResponsesFunctionTool)
    .max(128)
    .refine(
      (tools) => new Set(tools.map((tool) => tool.name)).size === tools.length,
      "each tool needs a name of its own",
    )
    .nullish(),
  tool_choice: OpenAIResponsesToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  /** `effort` is passed on as `reasoning_effort`; `summary` asks for the model's thinking as summary text. */
  reasoning: onlyFields({
    effort: ReasoningEffortOption.nullish(),
    summary: SummaryOption.nullish(),
    generate_summary: SummaryOption.nullish(),
  }).nullish(),
  /** `verbosity` is passed on as chat completions' `verbosity` (the Agents SDK sends it for GPT-5 models). */
  text: onlyFields({ format: TextFormat.nullish(), verbosity: z.enum(["low", "medium", "high"]).nullish() }).nullish(),
  // Bookkeeping of the caller's, with no effect on the answer.
  user: z.string().max(1_000).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  service_tier: z.string().max(100).nullish(),
  prompt_cache_key: z.string().max(1_000).nullish(),
  prompt_cache_retention: z.string().max(100).nullish(),
  safety_identifier: z.string().max(1_000).nullish(),
  // Accepted with the value that changes nothing.
  store: z.literal(false, `${stateless}: store must be false`).nullish(),
  background: z
    .literal(false, `${stateless}: background must be false (a response streams or is waited for)`)
    .nullish(),
  include: z.array(z.string()).max(0, "Brook has nothing more to include: include must be empty").nullish(),
  truncation: z.literal("disabled", "Brook never truncates the input: truncation must be disabled").nullish(),
  top_logprobs: z.literal(0, "Brook does not relay log probabilities: top_logprobs must be 0").nullish(),
};

/**
 * `POST /v1/responses`. Any other field is refused by name when set: the stored-state ones with
 * why (Brook keeps no responses), the rest as options Brook does not pass on.
 */
export const OpenAIResponsesRequest = onlyFields(requestFields, {
  previous_response_id: `${stateless}: send the whole conversation as input items`,
  conversation: `${stateless}: send the whole conversation as input items`,
  prompt: "Brook has no stored prompt templates",
  context_management: stateless,
  max_tool_calls: notPassedOn,
});
export type OpenAIResponsesRequest = z.input<typeof OpenAIResponsesRequest>;
export type ParsedOpenAIResponsesRequest = z.output<typeof OpenAIResponsesRequest>;

// ---------------------------------------------------------------------------
// What Brook sends

/** Usage as the Responses API reports it; `cost` (US dollars) is Brook's, as on chat completions. */
export const OpenAIResponseUsage = z.strictObject({
  input_tokens: z.number().int().nonnegative(),
  /** The part of `input_tokens` read from the model server's prompt cache. */
  input_tokens_details: z.strictObject({ cached_tokens: z.number().int().nonnegative() }),
  output_tokens: z.number().int().nonnegative(),
  /** The part of `output_tokens` the model spent thinking. */
  output_tokens_details: z.strictObject({ reasoning_tokens: z.number().int().nonnegative() }),
  total_tokens: z.number().int().nonnegative(),
  cost: z.number().nonnegative(),
});
export type OpenAIResponseUsage = z.infer<typeof OpenAIResponseUsage>;

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);

export const OpenAIResponseOutputText = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.never()),
  logprobs: z.array(z.never()),
});

/** The answer's text. */
export const OpenAIResponseMessage = z.strictObject({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: ItemStatus,
  content: z.array(OpenAIResponseOutputText),
});

const SummaryText = z.strictObject({ type: z.literal("summary_text"), text: z.string() });
const ReasoningText = z.strictObject({ type: z.literal("reasoning_text"), text: z.string() });

/** The model's visible thinking: as `content` (reasoning text), or as `summary` when the request asked for one. */
export const OpenAIResponseReasoning = z.strictObject({
  id: z.string(),
  type: z.literal("reasoning"),
  status: ItemStatus,
  summary: z.array(SummaryText),
  content: z.array(ReasoningText).optional(),
});

/** A call of one of the caller's functions: the caller runs it and sends a `function_call_output`. */
export const OpenAIResponseFunctionCall = z.strictObject({
  id: z.string(),
  type: z.literal("function_call"),
  status: ItemStatus,
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});

export const OpenAIResponseOutputItem = z.discriminatedUnion("type", [
  OpenAIResponseMessage,
  OpenAIResponseReasoning,
  OpenAIResponseFunctionCall,
]);
export type OpenAIResponseOutputItem = z.infer<typeof OpenAIResponseOutputItem>;

/** What a response echoes of its request. */
export const OpenAIResponseSettings = z.strictObject({
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  parallel_tool_calls: z.boolean(),
  reasoning: z.strictObject({ effort: z.string().nullable(), summary: z.string().nullable() }),
  temperature: z.number().nullable(),
  text: z.strictObject({
    format: z.looseObject({ type: z.enum(["text", "json_object", "json_schema"]) }),
    verbosity: z.enum(["low", "medium", "high"]).nullable(),
  }),
  tool_choice: OpenAIResponsesToolChoice,
  tools: z.array(OpenAIResponsesFunctionTool),
  top_p: z.number().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  user: z.string().nullable(),
});
export type OpenAIResponseSettings = z.infer<typeof OpenAIResponseSettings>;

/** The response object: the answer without `stream`, and the `response` of the stream's lifecycle events. */
export const OpenAIResponse = z.strictObject({
  ...OpenAIResponseSettings.shape,
  id: z.string(),
  object: z.literal("response"),
  /** Unix seconds. */
  created_at: z.number().int(),
  completed_at: z.number().int().nullable(),
  status: z.enum(["in_progress", "completed", "incomplete", "failed"]),
  /** Why a failed response failed, in OpenAI's error shape (the code is Brook's, as on chat completions). */
  error: z
    .strictObject({ code: z.string().nullable(), message: z.string(), type: z.string(), param: z.string().nullable() })
    .nullable(),
  incomplete_details: z.strictObject({ reason: z.enum(["max_output_tokens", "content_filter"]) }).nullable(),
  model: z.string(),
  output: z.array(OpenAIResponseOutputItem),
  usage: OpenAIResponseUsage.nullable(),
  previous_response_id: z.null(),
  store: z.literal(false),
  background: z.literal(false),
  truncation: z.literal("disabled"),
});
export type OpenAIResponse = z.infer<typeof OpenAIResponse>;

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), sequence_number: z.number().int().nonnegative(), ...shape });

const itemPosition = { item_id: z.string(), output_index: z.number().int().nonnegative() };
const contentPosition = { ...itemPosition, content_index: z.number().int().nonnegative() };
const summaryPosition = { ...itemPosition, summary_index: z.number().int().nonnegative() };

/** One event of a streamed response (`event: <type>`, `data: <this>`), in the order OpenAI sends them. */
export const OpenAIResponseStreamEvent = z.discriminatedUnion("type", [
  event("response.created", { response: OpenAIResponse }),
  event("response.in_progress", { response: OpenAIResponse }),
  event("response.output_item.added", { output_index: z.number().int(), item: OpenAIResponseOutputItem }),
  event("response.output_item.done", { output_index: z.number().int(), item: OpenAIResponseOutputItem }),
  event("response.content_part.added", {
    ...contentPosition,
    part: z.union([OpenAIResponseOutputText, ReasoningText]),
  }),
  event("response.content_part.done", { ...contentPosition, part: z.union([OpenAIResponseOutputText, ReasoningText]) }),
  event("response.output_text.delta", { ...contentPosition, delta: z.string(), logprobs: z.array(z.never()) }),
  event("response.output_text.done", { ...contentPosition, text: z.string(), logprobs: z.array(z.never()) }),
  event("response.reasoning_text.delta", { ...contentPosition, delta: z.string() }),
  event("response.reasoning_text.done", { ...contentPosition, text: z.string() }),
  event("response.reasoning_summary_part.added", { ...summaryPosition, part: SummaryText }),
  event("response.reasoning_summary_part.done", { ...summaryPosition, part: SummaryText }),
  event("response.reasoning_summary_text.delta", { ...summaryPosition, delta: z.string() }),
  event("response.reasoning_summary_text.done", { ...summaryPosition, text: z.string() }),
  event("response.function_call_arguments.delta", { ...itemPosition, delta: z.string() }),
  event("response.function_call_arguments.done", { ...itemPosition, arguments: z.string() }),
  event("response.completed", { response: OpenAIResponse }),
  event("response.incomplete", { response: OpenAIResponse }),
  event("response.failed", { response: OpenAIResponse }),
  /** After `response.failed`: the stream's end, as an error the SDKs raise. */
  event("error", { code: z.string().nullable(), message: z.string(), param: z.string().nullable() }),
]);
export type OpenAIResponseStreamEvent = z.infer<typeof OpenAIResponseStreamEvent>;
