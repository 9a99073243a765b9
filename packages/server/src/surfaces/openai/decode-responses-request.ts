import {
  type OpenAIResponseSettings,
  type OpenAIResponsesInputItem,
  OpenAIResponsesInputItems,
  OpenAIResponsesRequest,
  type ParsedOpenAIResponsesRequest,
  parseDataUrl,
} from "@brook/shared";
import { z } from "zod";
import type { RunRequest } from "../../control/run-request.js";
import { InputError } from "../../errors/input-error.js";
import {
  type ModelContentPart,
  type ModelMessage,
  type ModelTool,
  type ModelToolCall,
  type ModelToolChoice,
  messageText,
} from "../../models/chat-model.js";
import { decodeTextFile } from "../../models/message-parts.js";

export interface DecodedResponsesRequest {
  request: RunRequest;
  stream: boolean;
  /** The names of the caller's own function tools. */
  callerTools: ReadonlySet<string>;
  /** What the response echoes of the request. */
  settings: OpenAIResponseSettings;
  /** The model's thinking goes out as summary text (the request asked for a summary), else as reasoning text. */
  reasoningAsSummary: boolean;
}

/** The conversation, with where each entry came from in the caller's body (for the limits' 400s). */
interface Conversation {
  messages: ModelMessage[];
  /** The field of each message's text. */
  fields: string[];
  /** The field of each tool call's arguments, per message. */
  callFields: string[][];
  /** The field of each image's URL and each file's data, per message and part. */
  partFields: string[][];
}

/**
 * A Responses body as Brook's request: `instructions` and system or developer messages become
 * system messages, `input` the conversation (a string is one user message; `function_call` items
 * become an assistant turn's tool calls, `function_call_output` items their results; reasoning
 * items are left out, as Brook keeps thinking out of every conversation), the caller's function
 * tools are offered beside Brook's MCP tools. Invalid or unsupported fields answer 400 naming them.
 */
export function decodeResponsesRequest(body: unknown): DecodedResponsesRequest {
  const parsed = parseRequest(body);
  const conversation = conversationOf(parsed);
  const callerTools: ModelTool[] = (parsed.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.parameters ?? { type: "object", properties: {} },
  }));
  const lastUser = conversation.messages.findLast((message) => message.role === "user");
  const summary = parsed.reasoning?.summary ?? parsed.reasoning?.generate_summary ?? null;
  const format = parsed.text?.format;
  return {
    request: {
      message: lastUser === undefined ? "" : messageText(lastUser.content),
      model: parsed.model,
      temperature: parsed.temperature,
      max_tokens: parsed.max_output_tokens,
      top_p: parsed.top_p,
      conversation: conversation.messages,
      fieldNames: {
        message: "input",
        messages: "input",
        max_tokens: "max_output_tokens",
        output_schema: "text.format.schema",
        content: (index) => conversation.fields[index] ?? "input",
        part: (index, at) => conversation.partFields[index]?.[at] ?? "input",
        toolArguments: (index, call) => conversation.callFields[index]?.[call] ?? "input",
      },
      callerTools,
      toolChoice: toolChoice(parsed.tool_choice),
      parallelToolCalls: parsed.parallel_tool_calls ?? undefined,
      reasoning_effort: parsed.reasoning?.effort ?? undefined,
      verbosity: parsed.text?.verbosity ?? undefined,
      ...textFormat(format),
    },
    stream: parsed.stream === true,
    callerTools: new Set(callerTools.map((tool) => tool.name)),
    settings: {
      instructions: parsed.instructions ?? null,
      max_output_tokens: parsed.max_output_tokens ?? null,
      parallel_tool_calls: parsed.parallel_tool_calls ?? true,
      reasoning: { effort: parsed.reasoning?.effort ?? null, summary },
      temperature: parsed.temperature ?? null,
      text: { format: format ?? { type: "text" }, verbosity: parsed.text?.verbosity ?? null },
      tool_choice: parsed.tool_choice ?? "auto",
      tools: parsed.tools ?? [],
      top_p: parsed.top_p ?? null,
      metadata: parsed.metadata ?? {},
      user: parsed.user ?? null,
    },
    reasoningAsSummary: summary !== null,
  };
}

/**
 * The body parsed, or an InputError naming each bad field; a bad item of an `input` list is named
 * by its own path (`input.2.call_id`), not as the union of a string and a list that failed.
 */
function parseRequest(body: unknown): ParsedOpenAIResponsesRequest {
  const result = OpenAIResponsesRequest.safeParse(body);
  if (result.success) return result.data;
  const input = (body as { input?: unknown } | null)?.input;
  const items = Array.isArray(input) ? OpenAIResponsesInputItems.safeParse(input) : undefined;
  if (items === undefined || items.success) throw InputError.fromZodPaths(result.error);
  const others = result.error.issues.filter((issue) => issue.path.length !== 1 || issue.path[0] !== "input");
  const itemIssues = items.error.issues.map((issue) => ({ ...issue, path: ["input", ...issue.path] }));
  throw InputError.fromZodPaths(new z.ZodError([...others, ...itemIssues]));
}

function conversationOf(parsed: ParsedOpenAIResponsesRequest): Conversation {
  const conversation: Conversation = { messages: [], fields: [], callFields: [], partFields: [] };
  const push = (message: ModelMessage, field: string, callFields: string[] = [], partFields: string[] = []) => {
    conversation.messages.push(message);
    conversation.fields.push(field);
    conversation.callFields.push(callFields);
    conversation.partFields.push(partFields);
  };
  if (parsed.instructions != null && parsed.instructions !== "") {
    push({ role: "system", content: parsed.instructions }, "instructions");
  }
  if (typeof parsed.input === "string") {
    push({ role: "user", content: parsed.input }, "input");
    return conversation;
  }
  parsed.input.forEach((item: OpenAIResponsesInputItem, index) => {
    switch (item.type) {
      case "message": {
        const field = `input.${index}.content`;
        if (item.role === "user" && hasAttachments(item.content)) {
          push({ role: "user", content: userParts(item.content, field) }, field, [], partFields(item.content, field));
          break;
        }
        refuseAttachments(item.content, field);
        const content = textOf(item.content);
        if (item.role === "assistant") push({ role: "assistant", content }, field);
        else push({ role: item.role === "user" ? "user" : "system", content }, field);
        break;
      }
      case "function_call": {
        const call: ModelToolCall = { id: item.call_id, name: item.name, arguments: item.arguments };
        const field = `input.${index}.arguments`;
        const last = conversation.messages.at(-1);
        // Calls after an answer's text, or after each other, are that one assistant turn's.
        if (last?.role === "assistant") {
          last.toolCalls = [...(last.toolCalls ?? []), call];
          conversation.callFields.at(-1)?.push(field);
        } else push({ role: "assistant", content: "", toolCalls: [call] }, `input.${index}`, [field]);
        break;
      }
      case "function_call_output":
        push({ role: "tool", toolCallId: item.call_id, content: textOf(item.output) }, `input.${index}.output`);
        break;
      case "reasoning":
        break;
    }
  });
  return conversation;
}

type MessageContent = Extract<OpenAIResponsesInputItem, { type: "message" }>["content"];

function hasAttachments(content: MessageContent): content is Exclude<MessageContent, string> {
  return (
    typeof content !== "string" && content.some((part) => part.type === "input_image" || part.type === "input_file")
  );
}

/** Images and files are a user's: anywhere else they are refused by name, not dropped. */
function refuseAttachments(content: MessageContent, field: string): void {
  if (typeof content === "string") return;
  const fields: Record<string, string[]> = {};
  content.forEach((part, at) => {
    if (part.type === "input_image" || part.type === "input_file") {
      fields[`${field}.${at}`] = [`${part.type} parts are taken in user messages only`];
    }
  });
  if (Object.keys(fields).length > 0) throw new InputError(fields);
}

/**
 * A user's parts, one for one (the limits name part `at` by its place): text as it is, images as
 * `/v1/chat/completions`' `image_url`, text files decoded for inlining (their bytes must be UTF-8).
 */
function userParts(content: Exclude<MessageContent, string>, field: string): ModelContentPart[] {
  return content.map((part, at): ModelContentPart => {
    switch (part.type) {
      case "input_image": {
        const url = part.image_url ?? "";
        return { type: "image_url", image_url: part.detail == null ? { url } : { url, detail: part.detail } };
      }
      case "input_file": {
        const data = parseDataUrl(part.file_data ?? "");
        const text = decodeTextFile(data?.base64 ?? "");
        if (text === undefined) throw new InputError({ [`${field}.${at}.file_data`]: ["a text file must be UTF-8"] });
        return { type: "file", name: part.filename, mediaType: data?.mediaType ?? "text/plain", text };
      }
      case "refusal":
        return { type: "text", text: part.refusal };
      default:
        return { type: "text", text: part.text };
    }
  });
}

/** Where each image's URL and each file's data sits, for the limits' 400s. */
function partFields(content: Exclude<MessageContent, string>, field: string): string[] {
  return content.map((part, at) =>
    part.type === "input_image"
      ? `${field}.${at}.image_url`
      : part.type === "input_file"
        ? `${field}.${at}.file_data`
        : `${field}.${at}`,
  );
}

/** A message's text: its text and refusal parts (images and files were refused before). */
function textOf(content: string | readonly object[]): string {
  if (typeof content === "string") return content;
  return content
    .map((part) => ("text" in part ? part.text : "refusal" in part ? part.refusal : ""))
    .filter((text) => typeof text === "string")
    .join("");
}

function toolChoice(choice: ParsedOpenAIResponsesRequest["tool_choice"]): ModelToolChoice | undefined {
  if (choice == null) return undefined;
  return typeof choice === "string" ? choice : { name: choice.name };
}

/** `json_schema` is a typed answer (checked, like `output`); `json_object` is passed on as it is. */
function textFormat(format: NonNullable<ParsedOpenAIResponsesRequest["text"]>["format"]): Partial<RunRequest> {
  if (format?.type === "json_object") return { responseFormat: { type: "json_object" } };
  if (format?.type !== "json_schema") return {};
  const { name, schema, description, strict } = format;
  return { output: { schema, name, description, strict } };
}
