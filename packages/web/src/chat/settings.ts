import { useEffect, useState } from "react";
import { readStored, writeStored } from "../lib/local-store.ts";

export interface Settings {
  /** Empty: the server's default system prompt. */
  systemPrompt: string;
  /** Empty: the server's default model. */
  model: string;
  /** Undefined: the model's default. */
  temperature: number | undefined;
  /** A JSON Schema of an object, as typed (checked before it is saved). Empty: text answers. */
  outputSchema: string;
}

const SETTINGS = "brook.settings";
export const defaultSettings: Settings = { systemPrompt: "", model: "", temperature: undefined, outputSchema: "" };

/**
 * The answer format typed in the settings: no schema (empty), the schema, or why it is not one.
 * Brook takes only the JSON Schema of an object (its `"type"` is `"object"`).
 */
export function parseOutputSchema(
  text: string,
): { schema: Record<string, unknown> | undefined; error?: undefined } | { schema?: undefined; error: string } {
  if (text.trim() === "") return { schema: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    !("type" in value) ||
    value.type !== "object"
  ) {
    return { error: 'Must be the JSON Schema of an object: { "type": "object", ... }' };
  }
  return { schema: value as Record<string, unknown> };
}

export function useSettings(): [Settings, (settings: Settings) => void] {
  const [settings, setSettings] = useState<Settings>(() => ({
    ...defaultSettings,
    ...readStored<Partial<Settings>>(SETTINGS, {}),
  }));
  useEffect(() => writeStored(SETTINGS, settings), [settings]);
  return [settings, setSettings];
}
