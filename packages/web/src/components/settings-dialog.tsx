import { useEffect, useId, useRef, useState } from "react";
import { defaultSettings, parseOutputSchema, type Settings } from "../chat/settings.ts";
import { buttonStyles, fieldStyles, Modal } from "./modal.tsx";

interface SettingsDialogProps {
  open: boolean;
  settings: Settings;
  defaultModel: string | undefined;
  /** The models Brook routes to (its /health), offered in the model field; undefined: none known. */
  models?: readonly string[] | undefined;
  onSave(settings: Settings): void;
  onClose(): void;
}

export function SettingsDialog({ open, settings, defaultModel, models, onSave, onClose }: SettingsDialogProps) {
  const [draft, setDraft] = useState(settings);
  const ids = {
    prompt: useId(),
    model: useId(),
    models: useId(),
    temperature: useId(),
    schema: useId(),
    schemaError: useId(),
  };
  // A schema that is not one stays in the dialog, with why, and is not saved.
  const schemaError = parseOutputSchema(draft.outputSchema).error;
  // Back on Custom after Model default, the slider is where it was.
  const lastTemperature = useRef(settings.temperature ?? 1);
  if (draft.temperature !== undefined) lastTemperature.current = draft.temperature;
  useEffect(() => {
    if (open) setDraft(settings);
  }, [open, settings]);
  const segment = (chosen: boolean) =>
    `relative flex cursor-pointer items-center justify-center rounded-md px-3 py-1.5 text-sm has-[input:focus-visible]:outline-2 has-[input:focus-visible]:outline-accent ${
      chosen ? "bg-background font-medium text-foreground shadow-xs" : "text-muted-foreground hover:text-foreground"
    }`;

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
              if (schemaError !== undefined) return;
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
            list={models === undefined || models.length === 0 ? undefined : ids.models}
          />
          {models !== undefined && models.length > 0 && (
            <datalist id={ids.models} data-testid="model-options">
              {models.map((model) => (
                <option key={model} value={model} />
              ))}
            </datalist>
          )}
        </div>
        <div className="space-y-1.5">
          <label htmlFor={ids.schema} className="text-sm font-medium">
            Answer format: JSON Schema
          </label>
          <textarea
            id={ids.schema}
            rows={4}
            value={draft.outputSchema}
            placeholder='Leave empty for text answers, or e.g. { "type": "object", "properties": { "city": { "type": "string" } } }'
            onChange={(event) => setDraft({ ...draft, outputSchema: event.target.value })}
            aria-invalid={schemaError !== undefined}
            aria-describedby={schemaError === undefined ? undefined : ids.schemaError}
            className={`${fieldStyles} resize-y font-mono text-xs leading-5`}
            spellCheck={false}
          />
          {schemaError !== undefined && (
            <p id={ids.schemaError} role="alert" className="text-xs text-danger">
              {schemaError}
            </p>
          )}
        </div>
        {/* Either the model's own default (nothing is sent) or a value of one's choosing: the slider shows only then. */}
        <div className="space-y-2">
          <div className="flex items-center justify-between">
            <span id={ids.temperature} className="text-sm font-medium">
              Temperature
            </span>
            {draft.temperature !== undefined && (
              <output className="text-sm text-muted-foreground tabular-nums">{draft.temperature.toFixed(1)}</output>
            )}
          </div>
          <div
            role="radiogroup"
            aria-labelledby={ids.temperature}
            className="grid grid-cols-2 gap-0.5 rounded-lg bg-muted p-0.5"
          >
            <label className={segment(draft.temperature === undefined)}>
              <input
                type="radio"
                name={ids.temperature}
                className="absolute inset-0 cursor-pointer appearance-none opacity-0"
                checked={draft.temperature === undefined}
                onChange={() => setDraft({ ...draft, temperature: undefined })}
              />
              Model default
            </label>
            <label className={segment(draft.temperature !== undefined)}>
              <input
                type="radio"
                name={ids.temperature}
                className="absolute inset-0 cursor-pointer appearance-none opacity-0"
                checked={draft.temperature !== undefined}
                onChange={() => setDraft({ ...draft, temperature: lastTemperature.current })}
              />
              Custom
            </label>
          </div>
          {draft.temperature !== undefined && (
            <div>
              <input
                type="range"
                aria-label="Temperature"
                min={0}
                max={2}
                step={0.1}
                value={draft.temperature}
                onChange={(event) => setDraft({ ...draft, temperature: Number(event.target.value) })}
                className="w-full accent-(--accent)"
              />
              <div className="flex justify-between text-xs text-muted-foreground">
                <span>Precise</span>
                <span>Creative</span>
              </div>
            </div>
          )}
        </div>
      </div>
    </Modal>
  );
}
