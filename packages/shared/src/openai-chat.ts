/**
 * OpenAI's chat-completions API, as Brook serves it at `/v1`: the request body it accepts, the
 * chunks and answers it sends, its error body and its model list. Fields Brook cannot honour are
 * refused by name rather than ignored.
 */
import { z } from "zod";
import { FileContentPart, ImageContentPart } from "./attachments.js";
import { OutputSpec, Penalty, Seed, StopSequences, TopP } from "./chat-request.js";

const onlyText = "Brook passes text to the model: only text parts are supported";

const TextPart = z.looseObject({ type: z.literal("text", onlyText), text: z.string() });

/** A message's content: a string, or text parts. */
const TextContent = z.union([z.string(), z.array(TextPart).max(1_000)]);

const Name = z.string().max(256).nullish();

export const OpenAISystemMessage = z.looseObject({
  role: z.enum(["system", "developer"]),
  content: TextContent,
  name: Name,
});

const userParts = "a user message's parts are text, image_url and file (a text file as a base64 data: URL)";

/** A user's content: a string, or text, `image_url` (passed on unchanged) and `file` parts (text files, inlined). */
const UserContent = z.union([
  z.string(),
  z
    .array(
      z.discriminatedUnion("type", [TextPart, ImageContentPart.loose(), FileContentPart.loose()], { error: userParts }),
    )
    .max(1_000),
]);

export const OpenAIUserMessage = z.looseObject({ role: z.literal("user"), content: UserContent, name: Name });

export const OpenAIToolCall = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.literal("function", "only function tool calls are supported").optional(),
  function: z.looseObject({ name: z.string().min(1).max(200), arguments: z.string() }),
});

/** An earlier answer: its text (refusal parts count as text), and the tools it called. */
export const OpenAIAssistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: z
    .union([
      z.string(),
      z.array(
        z.looseObject({
          type: z.enum(["text", "refusal"], onlyText),
          text: z.string().optional(),
          refusal: z.string().optional(),
        }),
      ),
    ])
    .nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(OpenAIToolCall).max(128).nullish(),
  name: Name,
});

export const OpenAIToolMessage = z.looseObject({
  role: z.literal("tool"),
  tool_call_id: z.string().min(1).max(200),
  content: TextContent,
});

export const OpenAIMessage = z.discriminatedUnion("role", [
  OpenAISystemMessage,
  OpenAIUserMessage,
  OpenAIAssistantMessage,
  OpenAIToolMessage,
]);
export type OpenAIMessage = z.infer<typeof OpenAIMessage>;

/** A function tool of the caller's: when the model calls it, the answer ends and the caller runs it. */
export const OpenAIFunctionTool = z.looseObject({
  type: z.literal("function", "only function tools are supported"),
  function: z.looseObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, _ or -"),
    description: z.string().max(100_000).nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
export type OpenAIFunctionTool = z.infer<typeof OpenAIFunctionTool>;

export const OpenAIToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string().min(1).max(200) }) }),
]);
export type OpenAIToolChoice = z.infer<typeof OpenAIToolChoice>;

const notPassedOn = "Brook does not pass this option on to the model";

/** The fields Brook reads or passes on, and those it accepts with the value that changes nothing. */
const requestFields = {
  model: z.string().trim().min(1).max(200).nullish(),
  messages: z.array(OpenAIMessage).min(1),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() })
    .nullish(),
  // Passed on to the model server.
  temperature: z.number().min(0).max(2).nullish(),
  top_p: TopP.nullish(),
  presence_penalty: Penalty.nullish(),
  frequency_penalty: Penalty.nullish(),
  seed: Seed.nullish(),
  stop: StopSequences.nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  tools: z
    .array(OpenAIFunctionTool)
    .max(128)
    .refine(
      (tools) => new Set(tools.map((tool) => tool.function.name)).size === tools.length,
      "each tool needs a name of its own",
    )
    .nullish(),
  tool_choice: OpenAIToolChoice.nullish(),
  /** Passed on with the tools, when the model is offered any. */
  parallel_tool_calls: z.boolean().nullish(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish(),
  n: z.literal(1, "Brook answers with one choice: n must be 1").nullish(),
  // Bookkeeping of the caller's, with no effect on the answer.
  user: z.string().max(1_000).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  store: z.literal(false, "Brook does not store answers for later retrieval: store must be false").nullish(),
  service_tier: z.string().max(100).nullish(),
  prompt_cache_key: z.string().max(1_000).nullish(),
  prompt_cache_retention: z.string().max(100).nullish(),
  safety_identifier: z.string().max(1_000).nullish(),
  // Brook's events carry no log probabilities, so it cannot relay them.
  logprobs: z.literal(false, "Brook does not relay log probabilities: logprobs must be false").nullish(),
  top_logprobs: z.literal(0, "Brook does not relay log probabilities: top_logprobs must be 0").nullish(),
  /** Passed on to the model server; a `json_schema` answer is also checked against its schema. */
  response_format: z
    .discriminatedUnion(
      "type",
      [
        z.looseObject({ type: z.literal("text") }),
        z.looseObject({ type: z.literal("json_object") }),
        z.looseObject({
          type: z.literal("json_schema"),
          json_schema: z.looseObject({
            name: OutputSpec.shape.name.unwrap().unwrap(),
            schema: OutputSpec.shape.schema,
            description: OutputSpec.shape.description,
            strict: OutputSpec.shape.strict,
          }),
        }),
      ],
      { error: "response_format.type must be text, json_object or json_schema" },
    )
    .nullish(),
  modalities: z.array(z.literal("text", "Brook answers with text only")).nullish(),
};

/**
 * `POST /v1/chat/completions`. Any other field (`logit_bias`, `audio`, `functions`…) is refused
 * by name when set: an option that silently did nothing would be worse.
 */
export const OpenAIChatRequest = z.looseObject(requestFields).superRefine((body, context) => {
  for (const [field, value] of Object.entries(body)) {
    if (field in requestFields || value === null || value === undefined) continue;
    context.addIssue({ code: "custom", path: [field], message: `${field} is not supported: ${notPassedOn}` });
  }
});
export type OpenAIChatRequest = z.input<typeof OpenAIChatRequest>;
export type ParsedOpenAIChatRequest = z.output<typeof OpenAIChatRequest>;

export const OpenAIFinishReason = z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]);
export type OpenAIFinishReason = z.infer<typeof OpenAIFinishReason>;

/** Usage as OpenAI reports it; `cost` (US dollars) is Brook's, as OpenRouter reports it. */
export const OpenAIUsage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  /** The parts of the totals that were cached input and reasoning. */
  prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative() }),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int().nonnegative() }),
  cost: z.number().nonnegative(),
});
export type OpenAIUsage = z.infer<typeof OpenAIUsage>;

const FunctionCall = z.object({ name: z.string(), arguments: z.string() });

export const OpenAIChunkToolCall = z.object({
  index: z.number().int().nonnegative(),
  id: z.string(),
  type: z.literal("function"),
  function: FunctionCall,
});

/** One `data:` event of a streamed answer. */
export const OpenAIChatCompletionChunk = z.strictObject({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.strictObject({
      index: z.literal(0),
      delta: z.strictObject({
        role: z.literal("assistant").optional(),
        content: z.string().optional(),
        /** What a reasoning model thinks before it answers (DeepSeek's field). */
        reasoning_content: z.string().optional(),
        tool_calls: z.array(OpenAIChunkToolCall).optional(),
      }),
      logprobs: z.null(),
      finish_reason: OpenAIFinishReason.nullable(),
    }),
  ),
  /** With `stream_options.include_usage`: null, then the usage in a last chunk without choices. */
  usage: OpenAIUsage.nullable().optional(),
});
export type OpenAIChatCompletionChunk = z.infer<typeof OpenAIChatCompletionChunk>;

/** The answer of a request without `stream`. */
export const OpenAIChatCompletion = z.strictObject({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.strictObject({
      index: z.literal(0),
      message: z.strictObject({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        refusal: z.null(),
        reasoning_content: z.string().optional(),
        tool_calls: z
          .array(z.object({ id: z.string(), type: z.literal("function"), function: FunctionCall }))
          .optional(),
      }),
      logprobs: z.null(),
      finish_reason: OpenAIFinishReason,
    }),
  ),
  usage: OpenAIUsage,
});
export type OpenAIChatCompletion = z.infer<typeof OpenAIChatCompletion>;

/** Every refusal and failure of `/v1`, as a body or as a streamed `data:` event. */
export const OpenAIErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    /** The request field at fault, when one is. */
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAIErrorBody = z.infer<typeof OpenAIErrorBody>;

export const OpenAIModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
});
export type OpenAIModel = z.infer<typeof OpenAIModel>;

export const OpenAIModelList = z.object({ object: z.literal("list"), data: z.array(OpenAIModel) });
export type OpenAIModelList = z.infer<typeof OpenAIModelList>;
