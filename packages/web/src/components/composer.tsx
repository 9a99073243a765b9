import { ArrowUp, Paperclip, Square } from "lucide-react";
import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState } from "react";
import { maxAttachments, type PendingAttachment, readAttachment } from "../chat/attachments.ts";
import { AttachmentStrip } from "./attachment-strip.tsx";

interface ComposerProps {
  streaming: boolean;
  disabled?: boolean;
  onSend(text: string, attachments: readonly PendingAttachment[]): void;
  onStop(): void;
}

/** What the file picker offers: the images and text files Brook sends. */
const accepted =
  "image/png,image/jpeg,image/gif,image/webp,text/*,.md,.markdown,.csv,.tsv,.json,.jsonl,.xml,.yaml,.yml,.toml,.ts,.js,.py,.sql,.sh";

export interface ComposerHandle {
  focus(): void;
}

/** The message box: Enter sends, Shift+Enter breaks the line, Escape stops a streaming reply. */
export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer(
  { streaming, disabled = false, onSend, onStop },
  handle,
) {
  const [text, setText] = useState("");
  const [pending, setPending] = useState<PendingAttachment[]>([]);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  /** Chosen, pasted or dropped files: read now, so that a size or type error shows before sending. */
  const add = async (files: readonly File[]) => {
    if (files.length === 0) return;
    const problems: string[] = [];
    const read: PendingAttachment[] = [];
    for (const file of files) {
      try {
        read.push(await readAttachment(file));
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
    setPending((current) => {
      const room = Math.max(0, maxAttachments - current.length);
      if (read.length > room) problems.push(`At most ${maxAttachments} images and files per message.`);
      return [...current, ...read.slice(0, room)];
    });
    setProblem(problems.length === 0 ? undefined : problems.join(" "));
  };
  useImperativeHandle(handle, () => ({ focus: () => area.current?.focus() }), []);

  // Grow with the text up to a limit, then scroll.
  // biome-ignore lint/correctness/useExhaustiveDependencies: measured again whenever the text changes
  useLayoutEffect(() => {
    const element = area.current;
    if (element === null) return;
    element.style.height = "auto";
    element.style.height = `${Math.min(element.scrollHeight, 240)}px`;
  }, [text]);

  const canSend = !streaming && !disabled && (text.trim() !== "" || pending.length > 0);
  const send = () => {
    if (!canSend) return;
    onSend(text.trim() === "" ? "What do you make of this?" : text, pending);
    setText("");
    setPending([]);
    setProblem(undefined);
  };

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes("Files")) event.preventDefault();
      }}
      onDrop={(event) => {
        if (event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        void add([...event.dataTransfer.files]);
      }}
      className="flex flex-col gap-1 rounded-2xl border border-border bg-background p-2 shadow-sm transition-colors focus-within:border-accent/60 focus-within:ring-2 focus-within:ring-accent/15"
    >
      {pending.length > 0 && (
        <AttachmentStrip
          items={pending.map((item) => ({ id: item.id, kept: item.kept }))}
          onRemove={(id) => setPending((current) => current.filter((item) => item.id !== id))}
        />
      )}
      {problem !== undefined && (
        <p role="alert" className="px-2 text-sm text-danger">
          {problem}
        </p>
      )}
      <div className="flex items-end gap-2">
        <input
          ref={picker}
          type="file"
          multiple
          accept={accepted}
          aria-label="Attach files"
          className="hidden"
          onChange={(event) => {
            void add([...(event.target.files ?? [])]);
            event.target.value = "";
          }}
        />
        <button
          type="button"
          aria-label="Attach images or files"
          title="Attach images or files"
          disabled={disabled}
          onClick={() => picker.current?.click()}
          className="inline-flex size-10 shrink-0 items-center justify-center rounded-xl text-muted-foreground hover:bg-muted hover:text-foreground disabled:opacity-50"
        >
          <Paperclip aria-hidden="true" className="size-4" />
        </button>
        <textarea
          ref={area}
          aria-label="Message"
          value={text}
          rows={1}
          placeholder="Message Brook…"
          onChange={(event) => setText(event.target.value)}
          onPaste={(event) => {
            const files = [...event.clipboardData.files];
            if (files.length === 0) return;
            event.preventDefault();
            void add(files);
          }}
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
      </div>
    </form>
  );
});
