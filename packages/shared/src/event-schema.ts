import { z } from "zod";
import {
  ChatEvent,
  CompleteEvent,
  ContentEvent,
  ErrorEvent,
  JsonValue,
  ObjectEvent,
  ReasoningEvent,
  StartEvent,
  ToolCallEvent,
  ToolResultEvent,
} from "./chat-event.js";
import { ErrorCode } from "./error-catalogue.js";
import { Timing, Usage } from "./usage.js";

/** Where the file lies in the package (`@brook/shared/chat-event.schema.json`). */
export const chatEventSchemaFile = "chat-event.schema.json";

/** The parts the schema names in its `$defs`, as the package exports them. */
const named = {
  StartEvent,
  ReasoningEvent,
  ContentEvent,
  ObjectEvent,
  ToolCallEvent,
  ToolResultEvent,
  CompleteEvent,
  ErrorEvent,
  Usage,
  Timing,
  ErrorCode,
  JsonValue,
};

/**
 * The JSON Schema (draft 2020-12) of one event of Brook's stream (`ChatEvent`: the `data` of each
 * Server-Sent Event of `/chat/stream`), for services in other languages to validate the stream
 * with. Objects allow fields they do not name: a later Brook may add some, as the events already
 * add to the original's.
 */
export function chatEventJsonSchema(): Record<string, unknown> {
  const names = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) names.add(schema, { id });
  const { $schema, ...schema } = z.toJSONSchema(ChatEvent, {
    target: "draft-2020-12",
    io: "output",
    metadata: names,
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as { type: string; catchall?: unknown };
      if (def.type === "object" && def.catchall === undefined) delete jsonSchema.additionalProperties;
    },
  });
  return {
    $schema,
    title: "Brook chat event",
    description:
      "One event of Brook's stream: the JSON of each `data:` line of POST /chat/stream (and GET /chat/stream). " +
      "A stream ends with exactly one `complete` or `error` event, both with usage.",
    ...schema,
  };
}
