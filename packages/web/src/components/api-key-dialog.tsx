import { KeyRound } from "lucide-react";
import { useEffect, useId, useRef, useState } from "react";
import { buttonStyles, fieldStyles, Modal } from "./modal.tsx";

interface ApiKeyDialogProps {
  open: boolean;
  /** A key was sent and refused. */
  rejected: boolean;
  onSave(key: string): void;
  onClose(): void;
}

/** Asks for the API key Brook requires; it is kept in this browser only. */
export function ApiKeyDialog({ open, rejected, onSave, onClose }: ApiKeyDialogProps) {
  const [key, setKey] = useState("");
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!open) return;
    setKey("");
    // Ready to type the key (the dialog, opened just before, focused its close button).
    input.current?.focus();
  }, [open]);

  return (
    <Modal open={open} title="API key required" onClose={onClose}>
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          if (key.trim() !== "") onSave(key.trim());
        }}
      >
        <p role={rejected ? "alert" : undefined} className="flex gap-2 text-sm text-muted-foreground">
          <KeyRound aria-hidden="true" className="mt-0.5 size-4 shrink-0" />
          {rejected
            ? "Brook refused the key. Enter a valid one."
            : "This Brook asks for an API key. It is stored in this browser only."}
        </p>
        <div className="space-y-1.5">
          <label htmlFor={inputId} className="text-sm font-medium">
            API key
          </label>
          <input
            id={inputId}
            ref={input}
            type="password"
            autoComplete="off"
            value={key}
            onChange={(event) => setKey(event.target.value)}
            className={`${fieldStyles} font-mono`}
          />
        </div>
        <div className="flex justify-end gap-2">
          <button type="button" className={buttonStyles.ghost} onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={buttonStyles.primary} disabled={key.trim() === ""}>
            Save key
          </button>
        </div>
      </form>
    </Modal>
  );
}
