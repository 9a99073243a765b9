import type { ChatEvent } from "@brook/client";
import type { Message } from "./conversation.ts";

/** An answer after one more event of its run (content is batched by the runner, but accepted here too). */
export function applyEvent(message: Message, event: ChatEvent): Message {
  switch (event.type) {
    case "start":
      return { ...message, model: event.model };
    case "content":
      return { ...message, content: message.content + event.chunk };
    case "tool_call":
      return {
        ...message,
        tools: [...(message.tools ?? []), { id: event.id, name: event.name, arguments: event.arguments }],
      };
    case "tool_result": {
      const tools = message.tools ?? [];
      const known = tools.some((tool) => tool.id === event.id);
      const result = { result: event.result, isError: event.is_error };
      return {
        ...message,
        tools: known
          ? tools.map((tool) => (tool.id === event.id ? { ...tool, ...result } : tool))
          : [...tools, { id: event.id, name: event.name, arguments: "", ...result }],
      };
    }
    case "complete":
      return {
        ...message,
        content: event.full_content || message.content,
        status: "done",
        usage: event.usage,
        timing: event.timing,
      };
    case "error":
      return {
        ...message,
        status: event.code === "cancelled" ? "stopped" : "error",
        usage: event.usage,
        error: { message: event.error, code: event.code, retryable: event.retryable },
      };
  }
}
