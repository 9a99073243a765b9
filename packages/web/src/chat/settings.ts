import { useEffect, useState } from "react";
import { readStored, writeStored } from "../lib/local-store.ts";

export interface Settings {
  /** Empty: the server's default system prompt. */
  systemPrompt: string;
  /** Empty: the server's default model. */
  model: string;
  /** Undefined: the model's default. */
  temperature: number | undefined;
}

const SETTINGS = "brook.settings";
export const defaultSettings: Settings = { systemPrompt: "", model: "", temperature: undefined };

export function useSettings(): [Settings, (settings: Settings) => void] {
  const [settings, setSettings] = useState<Settings>(() => ({
    ...defaultSettings,
    ...readStored<Partial<Settings>>(SETTINGS, {}),
  }));
  useEffect(() => writeStored(SETTINGS, settings), [settings]);
  return [settings, setSettings];
}
