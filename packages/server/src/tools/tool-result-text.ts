import type { ToolImage, ToolResourceLink } from "@brook/shared";
import type { CallToolResult } from "@modelcontextprotocol/client";

/**
 * The text the model sees of a tool result: text parts as they are, other parts described
 * (a model cannot read base64; images, audio and binary resources are never dropped silently),
 * structured content as JSON when there is nothing else. Images up to `imageMaxChars` of base64
 * also reach clients (`toolResultParts`), and the description says so.
 */
export function toolResultText(result: CallToolResult, imageMaxChars = 0): string {
  const parts: string[] = [];
  for (const part of result.content ?? []) {
    switch (part.type) {
      case "text":
        parts.push(part.text);
        break;
      case "image":
        parts.push(
          `[image ${part.mimeType}, ${size(part.data)}${part.data.length <= imageMaxChars ? ": shown to the user" : ""}]`,
        );
        break;
      case "audio":
        parts.push(`[audio ${part.mimeType}, ${size(part.data)}: not played]`);
        break;
      case "resource":
        parts.push(
          "text" in part.resource
            ? part.resource.text
            : `[binary resource ${part.resource.uri}${part.resource.mimeType ? ` (${part.resource.mimeType})` : ""}, ${size(part.resource.blob)}]`,
        );
        break;
      case "resource_link":
        parts.push(`[resource ${part.uri}${part.name ? ` (${part.name})` : ""}]`);
        break;
      default:
        break;
    }
  }
  if (parts.length === 0 && result.structuredContent != null) return JSON.stringify(result.structuredContent);
  return parts.join("\n");
}

/** What a result carries beside its text, for clients: structured content, resource links, images. */
export function toolResultParts(
  result: CallToolResult,
  imageMaxChars: number,
): { structured?: Record<string, unknown>; resources?: ToolResourceLink[]; images?: ToolImage[] } {
  const resources: ToolResourceLink[] = [];
  const images: ToolImage[] = [];
  for (const part of result.content ?? []) {
    if (part.type === "resource_link") {
      resources.push({
        uri: part.uri,
        ...(part.name === undefined ? {} : { name: part.name }),
        ...(part.title === undefined ? {} : { title: part.title }),
        ...(part.description === undefined ? {} : { description: part.description }),
        ...(part.mimeType === undefined ? {} : { mime_type: part.mimeType }),
      });
    } else if (part.type === "image" && part.data.length <= imageMaxChars) {
      images.push({ mime_type: part.mimeType, data: part.data });
    }
  }
  return {
    // 2026-07-28 allows any JSON value; `tool_result` keeps objects (others reach the model as text).
    ...(isObject(result.structuredContent) ? { structured: result.structuredContent } : {}),
    ...(resources.length === 0 ? {} : { resources }),
    ...(images.length === 0 ? {} : { images }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The decoded size of base64 data, for people. */
function size(base64: string): string {
  const bytes = Math.floor((base64.length * 3) / 4);
  return bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024)} KB`;
}

/** Cuts text longer than `maxChars`, saying so, so that one huge result cannot flood the model's context. */
export function truncateToolText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Never split a surrogate pair.
  let end = maxChars;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}\n[… truncated: the result had ${text.length} characters, the first ${end} are shown]`;
}
