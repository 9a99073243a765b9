import type { ChatEvent } from "@brook/client";
import type { Message } from "./conversation.ts";

/**
 * An answer after one more event of its run (the runner batches reasoning and content chunks into
 * one event each). `now` dates the thinking.
 */
export function applyEvent(message: Message, event: ChatEvent, now = Date.now()): Message {
  switch (event.type) {
    case "start":
      return { ...message, model: event.model };
    case "reasoning":
      return {
        ...message,
        reasoning: (message.reasoning ?? "") + event.chunk,
        reasoningStartedAt: message.reasoningStartedAt ?? now,
      };
    case "content":
      return { ...message, content: message.content + event.chunk, ...thoughtUntil(message, now) };
    // A typed answer parsed so far: each parse replaces the last (its text still comes as content).
    case "object":
      return { ...message, object: event.partial };
    case "tool_call":
      return {
        ...message,
        tools: [...(message.tools ?? []), { id: event.id, name: event.name, arguments: event.arguments }],
      };
    case "tool_approval":
      return {
        ...message,
        tools: (message.tools ?? []).map((tool) =>
          tool.id === event.id ? { ...tool, approval: { id: event.approval_id, server: event.server } } : tool,
        ),
      };
    case "input_request": {
      const input = {
        id: event.input_id,
        server: event.server,
        message: event.message,
        schema: event.requested_schema,
      };
      return {
        ...message,
        tools: (message.tools ?? []).map((tool) =>
          tool.id === event.id ? { ...tool, inputs: [...(tool.inputs ?? []), input] } : tool,
        ),
      };
    }
    case "tool_result": {
      const tools = message.tools ?? [];
      const known = tools.some((tool) => tool.id === event.id);
      const decided = (tool: { approval?: NonNullable<Message["tools"]>[number]["approval"] }) =>
        event.approval === undefined || tool.approval === undefined
          ? {}
          : { approval: { ...tool.approval, decision: event.approval } };
      const result = {
        result: event.result,
        isError: event.is_error,
        ...(event.structured_content === undefined ? {} : { structured: event.structured_content }),
        ...(event.resources === undefined ? {} : { resources: event.resources }),
        ...(event.images === undefined ? {} : { images: event.images }),
      };
      return {
        ...message,
        tools: known
          ? tools.map((tool) =>
              tool.id === event.id ? { ...tool, ...result, ...decided(tool), ...closed(tool) } : tool,
            )
          : [...tools, { id: event.id, name: event.name, arguments: "", ...result }],
      };
    }
    case "tool_progress": {
      const { progress, total, message: said } = event;
      const report = {
        progress,
        ...(total === undefined ? {} : { total }),
        ...(said === undefined ? {} : { message: said }),
      };
      return {
        ...message,
        tools: (message.tools ?? []).map((tool) => (tool.id === event.id ? { ...tool, progress: report } : tool)),
      };
    }
    case "complete":
      return {
        ...message,
        content: event.full_content || message.content,
        status: "done",
        usage: event.usage,
        timing: event.timing,
        ...(event.object === undefined ? {} : { object: event.object }),
        // A fallback answered (MODELS): the answer names the model that wrote it.
        ...(event.model === undefined ? {} : { model: event.model }),
        ...(event.full_reasoning === undefined ? {} : { reasoning: event.full_reasoning }),
        ...(event.timing.reasoning_ms === undefined ? {} : { reasoningMs: event.timing.reasoning_ms }),
      };
    case "error":
      return {
        ...message,
        status: event.code === "cancelled" ? "stopped" : "error",
        usage: event.usage,
        error: { message: event.error, code: event.code, retryable: event.retryable },
        ...thoughtUntil(message, now),
      };
  }
}

/** The call has ended: questions it asked that this page did not answer are closed. */
function closed(tool: NonNullable<Message["tools"]>[number]): Pick<NonNullable<Message["tools"]>[number], "inputs"> {
  if (tool.inputs === undefined) return {};
  return { inputs: tool.inputs.map((input) => (input.answer === undefined ? { ...input, answer: "closed" } : input)) };
}

/** A run that ended without its terminal event (stopped, or its connection failed) thought until `now`. */
export function endThinking(message: Message, now = Date.now()): Message {
  const ended = thoughtUntil(message, now);
  return ended.reasoningMs === undefined ? message : { ...message, ...ended };
}

/** The thinking ends where the answer begins (or the run does): how long it lasted, once. */
function thoughtUntil(message: Message, now: number): Pick<Message, "reasoningMs"> {
  if (message.reasoningStartedAt === undefined || message.reasoningMs !== undefined) return {};
  return { reasoningMs: Math.max(0, now - message.reasoningStartedAt) };
}
