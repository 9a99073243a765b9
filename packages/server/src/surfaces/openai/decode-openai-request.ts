import { OpenAIChatRequest, type OpenAIMessage, type ParsedOpenAIChatRequest, parseDataUrl } from "@brook/shared";
import type { RunRequest } from "../../control/run-request.js";
import { InputError } from "../../errors/input-error.js";
import {
  type ModelContentPart,
  type ModelMessage,
  type ModelTool,
  type ModelToolChoice,
  messageText,
} from "../../models/chat-model.js";
import { decodeTextFile, historyParts } from "../../models/message-parts.js";

export interface DecodedOpenAIChat {
  request: RunRequest;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk carries the usage. */
  includeUsage: boolean;
  /** The names of the caller's own function tools. */
  callerTools: ReadonlySet<string>;
}

/**
 * A chat-completions body as Brook's request: the messages become the conversation (system and
 * developer messages its system prompt, tool calls and results as they are), the caller's
 * function tools are offered beside Brook's MCP tools. Invalid or unsupported fields answer 400
 * naming them.
 */
export function decodeOpenAIRequest(body: unknown): DecodedOpenAIChat {
  const parsed = InputError.parseDeep(OpenAIChatRequest, body);
  const conversation = parsed.messages.map((message, index) => toModelMessage(message, index));
  const callerTools: ModelTool[] = (parsed.tools ?? []).map(({ function: tool }) => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.parameters ?? { type: "object", properties: {} },
  }));
  const lastUser = conversation.findLast((message) => message.role === "user");
  return {
    request: {
      // The last user text, for the log: the conversation is what the model gets.
      message: lastUser === undefined ? "" : messageText(lastUser.content),
      model: parsed.model,
      temperature: parsed.temperature,
      max_tokens: parsed.max_completion_tokens ?? parsed.max_tokens,
      top_p: parsed.top_p,
      presence_penalty: parsed.presence_penalty,
      frequency_penalty: parsed.frequency_penalty,
      seed: parsed.seed,
      stop: parsed.stop,
      conversation,
      // The conversation is the messages, one for one; tool calls keep OpenAI's `function`.
      fieldNames: {
        max_tokens: parsed.max_completion_tokens == null ? "max_tokens" : "max_completion_tokens",
        output_schema: "response_format.json_schema.schema",
        toolArguments: (index, call) => `messages.${index}.tool_calls.${call}.function.arguments`,
      },
      callerTools,
      toolChoice: toolChoice(parsed.tool_choice),
      parallelToolCalls: parsed.parallel_tool_calls ?? undefined,
      reasoning_effort: parsed.reasoning_effort ?? undefined,
      ...responseFormat(parsed.response_format),
    },
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    callerTools: new Set(callerTools.map((tool) => tool.name)),
  };
}

function toModelMessage(message: OpenAIMessage, index: number): ModelMessage {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: textOf(message.content) };
    case "user":
      return { role: "user", content: userContent(message.content, index) };
    case "tool":
      return { role: "tool", toolCallId: message.tool_call_id, content: textOf(message.content) };
    case "assistant": {
      const content = message.content == null ? (message.refusal ?? "") : textOf(message.content);
      const toolCalls = (message.tool_calls ?? []).map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      return toolCalls.length > 0 ? { role: "assistant", content, toolCalls } : { role: "assistant", content };
    }
  }
}

/** A user's parts: text and images as they are, text files inlined (their bytes must be UTF-8). */
function userContent(content: UserContent, index: number): string | ModelContentPart[] {
  if (typeof content === "string") return content;
  content.forEach((part, at) => {
    if (part.type === "file" && decodeTextFile(parseDataUrl(part.file.file_data)?.base64 ?? "") === undefined) {
      throw new InputError({ [`messages.${index}.content.${at}.file.file_data`]: ["a text file must be UTF-8"] });
    }
  });
  return historyParts(content);
}

type UserContent = Extract<OpenAIMessage, { role: "user" }>["content"];

function textOf(content: string | readonly { text?: string | undefined; refusal?: string | undefined }[]): string {
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? part.refusal ?? "").join("");
}

function toolChoice(choice: DecodedChoice): ModelToolChoice | undefined {
  if (choice == null) return undefined;
  return typeof choice === "string" ? choice : { name: choice.function.name };
}

/** `json_schema` is a typed answer (checked, like `output`); `json_object` is passed on as it is. */
function responseFormat(format: ParsedOpenAIChatRequest["response_format"]): Partial<RunRequest> {
  if (format?.type === "json_object") return { responseFormat: { type: "json_object" } };
  if (format?.type !== "json_schema") return {};
  const { name, schema, description, strict } = format.json_schema;
  return { output: { schema, name, description, strict } };
}

type DecodedChoice = ParsedOpenAIChatRequest["tool_choice"];
