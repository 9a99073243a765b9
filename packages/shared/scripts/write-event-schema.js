// Writes the JSON Schema of Brook's events into the build (dist/chat-event.schema.json), from the
// Zod schemas just compiled: the package carries it as `@brook/shared/chat-event.schema.json`.
import { writeFileSync } from "node:fs";
import { chatEventJsonSchema, chatEventSchemaFile } from "../dist/index.js";

writeFileSync(
  new URL(`../dist/${chatEventSchemaFile}`, import.meta.url),
  `${JSON.stringify(chatEventJsonSchema(), null, 2)}\n`,
);
