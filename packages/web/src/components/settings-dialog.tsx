import { useEffect, useId, useState } from "react";
import { defaultSettings, type Settings } from "../chat/settings.ts";
import { buttonStyles, fieldStyles, Modal } from "./modal.tsx";

interface SettingsDialogProps {
  open: boolean;
  settings: Settings;
  defaultModel: string | undefined;
  onSave(settings: Settings): void;
  onClose(): void;
}

export function SettingsDialog({ open, settings, defaultModel, onSave, onClose }: SettingsDialogProps) {
  const [draft, setDraft] = useState(settings);
  const ids = { prompt: useId(), model: useId(), temperature: useId() };
  useEffect(() => {
    if (open) setDraft(settings);
  }, [open, settings]);

  return (
    <Modal
      open={open}
      title="Settings"
      onClose={onClose}
      footer={
        <>
          <button type="button" className={buttonStyles.ghost} onClick={() => setDraft(defaultSettings)}>
            Reset
          </button>
          <button
            type="button"
            className={buttonStyles.primary}
            onClick={() => {
              onSave(draft);
              onClose();
            }}
          >
            Save
          </button>
        </>
      }
    >
      <div className="space-y-5">
        <div className="space-y-1.5">
          <label htmlFor={ids.prompt} className="text-sm font-medium">
            System prompt
          </label>
          <textarea
            id={ids.prompt}
            rows={5}
            value={draft.systemPrompt}
            placeholder="Leave empty for Brook's default system prompt."
            onChange={(event) => setDraft({ ...draft, systemPrompt: event.target.value })}
            className={`${fieldStyles} resize-y leading-6`}
          />
        </div>
        <div className="space-y-1.5">
          <label htmlFor={ids.model} className="text-sm font-medium">
            Model
          </label>
          <input
            id={ids.model}
            value={draft.model}
            placeholder={defaultModel === undefined ? "Brook's default" : `${defaultModel} (default)`}
            onChange={(event) => setDraft({ ...draft, model: event.target.value })}
            className={`${fieldStyles} font-mono`}
            autoComplete="off"
            spellCheck={false}
          />
        </div>
        <div className="space-y-1.5">
          <div className="flex items-center justify-between">
            <label htmlFor={ids.temperature} className="text-sm font-medium">
              Temperature
            </label>
            <span className="text-sm text-muted-foreground tabular-nums">
              {draft.temperature === undefined ? "model default" : draft.temperature.toFixed(1)}
            </span>
          </div>
          <input
            id={ids.temperature}
            type="range"
            min={0}
            max={2}
            step={0.1}
            value={draft.temperature ?? 1}
            onChange={(event) => setDraft({ ...draft, temperature: Number(event.target.value) })}
            className="w-full accent-(--accent)"
          />
          <div className="flex justify-between text-xs text-muted-foreground">
            <span>Precise</span>
            {draft.temperature !== undefined && (
              <button
                type="button"
                className="underline-offset-2 hover:underline"
                onClick={() => setDraft({ ...draft, temperature: undefined })}
              >
                Use the model's default
              </button>
            )}
            <span>Creative</span>
          </div>
        </div>
      </div>
    </Modal>
  );
}
