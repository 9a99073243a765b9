import { ArrowUp, Square } from "lucide-react";
import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState } from "react";

interface ComposerProps {
  streaming: boolean;
  disabled?: boolean;
  onSend(text: string): void;
  onStop(): void;
}

export interface ComposerHandle {
  focus(): void;
}

/** The message box: Enter sends, Shift+Enter breaks the line, Escape stops a streaming reply. */
export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer(
  { streaming, disabled = false, onSend, onStop },
  handle,
) {
  const [text, setText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(handle, () => ({ focus: () => area.current?.focus() }), []);

  // Grow with the text up to a limit, then scroll.
  // biome-ignore lint/correctness/useExhaustiveDependencies: measured again whenever the text changes
  useLayoutEffect(() => {
    const element = area.current;
    if (element === null) return;
    element.style.height = "auto";
    element.style.height = `${Math.min(element.scrollHeight, 240)}px`;
  }, [text]);

  const canSend = !streaming && !disabled && text.trim() !== "";
  const send = () => {
    if (!canSend) return;
    onSend(text);
    setText("");
  };

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
      className="flex items-end gap-2 rounded-2xl border border-border bg-background p-2 shadow-sm transition-colors focus-within:border-accent/60 focus-within:ring-2 focus-within:ring-accent/15"
    >
      <textarea
        ref={area}
        aria-label="Message"
        value={text}
        rows={1}
        placeholder="Message Brook…"
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            send();
          } else if (event.key === "Escape" && streaming) {
            event.preventDefault();
            onStop();
          }
        }}
        className="max-h-60 min-h-10 flex-1 resize-none bg-transparent px-2 py-2 leading-6 outline-none placeholder:text-muted-foreground focus-visible:outline-none"
      />
      {streaming ? (
        <button
          type="button"
          onClick={onStop}
          className="inline-flex h-10 shrink-0 items-center gap-1.5 rounded-xl bg-foreground px-3.5 text-sm font-medium text-background hover:opacity-85"
        >
          <Square aria-hidden="true" className="size-3.5 fill-current" />
          Stop
        </button>
      ) : (
        <button
          type="submit"
          disabled={!canSend}
          className="inline-flex h-10 shrink-0 items-center gap-1.5 rounded-xl bg-primary px-3.5 text-sm font-medium text-primary-foreground hover:opacity-90 disabled:cursor-not-allowed disabled:bg-muted disabled:text-muted-foreground disabled:hover:opacity-100"
        >
          <ArrowUp aria-hidden="true" className="size-4" />
          Send
        </button>
      )}
    </form>
  );
});
