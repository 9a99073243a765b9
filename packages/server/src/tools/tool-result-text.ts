import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/**
 * The text the model sees of a tool result: text parts as they are, other parts described
 * briefly (a model cannot read base64), structured content as JSON when there is nothing else.
 */
export function toolResultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const part of result.content ?? []) {
    switch (part.type) {
      case "text":
        parts.push(part.text);
        break;
      case "image":
      case "audio":
        parts.push(`[${part.type} ${part.mimeType}]`);
        break;
      case "resource":
        parts.push("text" in part.resource ? part.resource.text : `[resource ${part.resource.uri}]`);
        break;
      case "resource_link":
        parts.push(`[resource ${part.uri}${part.name ? ` (${part.name})` : ""}]`);
        break;
      default:
        break;
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return parts.join("\n");
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
