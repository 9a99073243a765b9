import type { ChatEvent } from "@brook/shared";

/** What an event costs besides its text: the object, its strings' headers, its slot in the log. */
const eventOverhead = 64;

/**
 * About what an event holds in memory, in bytes: its text's length (known, O(1)) and a fixed
 * overhead, so that a flood of tiny events is bounded too. Never serializes the event.
 */
export function eventSize(event: ChatEvent): number {
  switch (event.type) {
    case "content":
    case "reasoning":
      return eventOverhead + event.chunk.length;
    case "tool_call":
      return eventOverhead + event.name.length + event.arguments.length;
    case "tool_approval":
      return eventOverhead + event.approval_id.length + event.name.length + event.arguments.length;
    case "input_request":
      // Rare (one per question a server asks): measured whole.
      return eventOverhead + event.message.length + JSON.stringify(event.requested_schema).length;
    case "tool_result":
      // Structured content and images are rare: measured only when present.
      return (
        eventOverhead +
        event.name.length +
        event.result.length +
        (event.structured_content === undefined ? 0 : JSON.stringify(event.structured_content).length) +
        (event.images?.reduce((total, image) => total + image.data.length, 0) ?? 0)
      );
    case "tool_progress":
      return eventOverhead + event.name.length + (event.message?.length ?? 0);
    case "object":
      // Made once per batch, not per token: measuring it costs what parsing it did.
      return eventOverhead + JSON.stringify(event.partial).length;
    case "complete":
      // An object is about as large as the text it was parsed from.
      return (
        eventOverhead +
        event.full_content.length * (event.object === undefined ? 1 : 2) +
        (event.full_reasoning?.length ?? 0)
      );
    case "error":
      return eventOverhead + event.error.length + (event.full_content?.length ?? 0);
    default:
      return eventOverhead + event.message.length + event.run_id.length + event.model.length;
  }
}
