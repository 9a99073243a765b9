import {
  imageMediaTypes,
  imageUrlProblem,
  isTextMediaType,
  parseDataUrl,
  supportedFileTypes,
  UIChatRequest,
  type UIDynamicToolPart,
  UIFilePart,
  type UIMessage,
  type UIMessagePart,
  type UIStaticToolPart,
  type UITextPart,
  UIToolApproval,
} from "@brook/shared";
import type { RunRequest } from "../../control/run-request.js";
import { InputError } from "../../errors/input-error.js";
import type { ModelContentPart, ModelMessage, ModelToolCall } from "../../models/chat-model.js";
import { decodeTextFile } from "../../models/message-parts.js";

export type DecodedUIChat =
  | {
      /** The chat's id: the conversation whose runs `/api/chat/:id/stream` and `/stop` find. */
      chatId: string;
      request: RunRequest;
    }
  | {
      chatId: string;
      /** The person answered the tool calls the chat's run waits on: that run goes on, no new one starts. */
      approvals: UIToolApproval[];
    };

/**
 * `useChat`'s body as Brook's request: the UI messages become the conversation (text parts, the
 * text and tool calls of earlier answers with their results), the last one, the user's, is what
 * the run answers; `brook` carries Brook's options. Invalid input answers 400 naming the field.
 */
export function decodeUIChatRequest(body: unknown): DecodedUIChat {
  const parsed = InputError.parseDeep(UIChatRequest, body);
  const { messages } = parsed;
  const lastIndex = messages.length - 1;
  const last = messages[lastIndex] as UIMessage;
  const approvals = last.role === "assistant" ? approvalsOf(last, lastIndex) : [];
  if (approvals.length > 0) return { chatId: parsed.id, approvals };
  if (last.role !== "user") {
    throw new InputError({ [`messages.${lastIndex}.role`]: ["the last message must be the user's: Brook answers it"] });
  }
  // Which UI message each conversation entry came from, for the limits to name it.
  const sources: number[] = [];
  const conversation = messages.flatMap((message, index) => {
    const entries = toModelMessages(message, index);
    for (const _entry of entries) sources.push(index);
    return entries;
  });
  const partsOf = (index: number) => `messages.${sources[index] ?? index}.parts`;
  const message = textOf(last.parts);
  const hasFiles = last.parts.some((part) => part.type === "file");
  if (message.trim() === "" && !hasFiles) {
    throw new InputError({ [`messages.${lastIndex}.parts`]: ["the new message has no text"] });
  }
  const options = parsed.brook ?? {};
  return {
    chatId: parsed.id,
    request: {
      message,
      system_prompt: options.system_prompt,
      model: options.model,
      temperature: options.temperature,
      max_tokens: options.max_tokens,
      tools: options.tools,
      output: options.output,
      conversation,
      fieldNames: {
        message: `messages.${lastIndex}.parts`,
        system_prompt: "brook.system_prompt",
        max_tokens: "brook.max_tokens",
        output_schema: "brook.output.schema",
        content: partsOf,
        part: partsOf,
        toolArguments: partsOf,
      },
    },
  };
}

/** The answers in an answer's tool parts of state `approval-responded`; a malformed one is a 400 naming it. */
function approvalsOf(message: UIMessage, index: number): UIToolApproval[] {
  const approvals: UIToolApproval[] = [];
  message.parts.forEach((part, at) => {
    if (!isTool(part) || part.state !== "approval-responded") return;
    const approval = UIToolApproval.safeParse((part as { approval?: unknown }).approval);
    if (!approval.success) {
      throw new InputError({
        [`messages.${index}.parts.${at}.approval`]: approval.error.issues.map(
          (issue) => `${issue.path.join(".") || "approval"}: ${issue.message}`,
        ),
      });
    }
    approvals.push(approval.data);
  });
  return approvals;
}

function toModelMessages(message: UIMessage, index: number): ModelMessage[] {
  if (message.role === "assistant") return assistantMessages(message.parts);
  if (message.role === "system" || !message.parts.some((part) => part.type === "file")) {
    return [{ role: message.role, content: textOf(message.parts) }];
  }
  const content: ModelContentPart[] = [];
  message.parts.forEach((part, at) => {
    if (isText(part)) content.push({ type: "text", text: part.text });
    else if (part.type === "file") content.push(filePart(part, `messages.${index}.parts.${at}`));
  });
  return [{ role: "user", content }];
}

/**
 * A `file` part: an image (PNG, JPEG, GIF, WebP; a data: or https: URL) becomes an image part, a
 * text-like file (a data: URL) its text with its name. Anything else is refused rather than
 * dropped: an answer about a picture the model never saw would mislead.
 */
function filePart(part: UIMessagePart, field: string): ModelContentPart {
  const file = UIFilePart.safeParse(part);
  if (!file.success) throw new InputError({ [field]: ["a file part needs mediaType and url"] });
  const { mediaType, url, filename } = file.data;
  const type = mediaType.toLowerCase();
  if (type === "image" || type.startsWith("image/")) {
    const problem =
      (imageMediaTypes as readonly string[]).includes(type) || type === "image"
        ? imageUrlProblem(url)
        : unsupported(type);
    if (problem !== undefined) throw new InputError({ [field]: [problem] });
    return { type: "image_url", image_url: { url } };
  }
  if (!isTextMediaType(type)) throw new InputError({ [field]: [unsupported(type)] });
  const data = parseDataUrl(url);
  const text = data === undefined ? undefined : decodeTextFile(data.base64);
  if (text === undefined) {
    throw new InputError({ [field]: ["a text file must be a base64 data: URL of UTF-8 text (Brook fetches no URL)"] });
  }
  return { type: "file", name: filename ?? "file", mediaType: type, text };
}

function unsupported(mediaType: string): string {
  return `${mediaType} files are not supported: images (${imageMediaTypes.join(", ")}) and text files (${supportedFileTypes}) are`;
}

/**
 * An earlier answer: each step's text and tool calls (one assistant message), then the calls'
 * results (tool messages). Calls that never got a result (an answer cut short) are left out, and
 * reasoning is not sent back (some servers refuse it).
 */
function assistantMessages(parts: readonly UIMessagePart[]): ModelMessage[] {
  const messages: ModelMessage[] = [];
  let texts: string[] = [];
  let calls: ModelToolCall[] = [];
  let results: ModelMessage[] = [];
  const flush = () => {
    const content = texts.join("");
    if (calls.length > 0) messages.push({ role: "assistant", content, toolCalls: calls }, ...results);
    else if (content !== "") messages.push({ role: "assistant", content });
    texts = [];
    calls = [];
    results = [];
  };
  for (const part of parts) {
    if (part.type === "step-start") {
      flush();
    } else if (isText(part)) {
      // Text after tool results is the model's next call.
      if (calls.length > 0) flush();
      texts.push(part.text);
    } else if (isTool(part)) {
      const result = toolResult(part);
      if (result === undefined) continue;
      const name =
        part.type === "dynamic-tool" ? (part as UIDynamicToolPart).toolName : part.type.slice("tool-".length);
      calls.push({ id: part.toolCallId, name, arguments: JSON.stringify(part.input ?? {}) });
      results.push({ role: "tool", toolCallId: part.toolCallId, content: result });
    }
  }
  flush();
  return messages;
}

/** What the model was told a tool answered; undefined for a call that has no result. */
function toolResult(part: UIDynamicToolPart | UIStaticToolPart): string | undefined {
  if (part.state === "output-error") return part.errorText ?? "The tool failed.";
  if (part.state === "output-denied") return "The user denied this tool call; it was not run.";
  if (part.state !== "output-available") return undefined;
  if (typeof part.output === "string") return part.output;
  return part.output === undefined ? "" : JSON.stringify(part.output);
}

function textOf(parts: readonly UIMessagePart[]): string {
  const texts: string[] = [];
  for (const part of parts) if (isText(part)) texts.push(part.text);
  return texts.join("\n");
}

function isText(part: UIMessagePart): part is UITextPart {
  return part.type === "text";
}

function isTool(part: UIMessagePart): part is UIDynamicToolPart | UIStaticToolPart {
  return part.type === "dynamic-tool" || part.type.startsWith("tool-");
}
