import { Brain, ChevronRight } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import type { Message } from "../chat/conversation.ts";
import { formatCount, formatMs } from "../lib/format.ts";

/**
 * The model's thinking, above its answer: open and streaming while the model thinks, with the
 * time so far; closed once the answer begins (a click opens it again), saying how long it took.
 */
export function ThinkingBlock({ message }: { message: Message }) {
  const thinking = message.status === "streaming" && message.content === "";
  const [open, setOpen] = useState(thinking);
  const [wasThinking, setWasThinking] = useState(thinking);
  // Follows the thinking as it begins and ends; in between, the reader opens and closes it.
  if (wasThinking !== thinking) {
    setWasThinking(thinking);
    setOpen(thinking);
  }
  const now = useNow(thinking);
  const body = useRef<HTMLDivElement>(null);
  // While it streams, the latest thought stays in view.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs again as the reasoning grows
  useEffect(() => {
    if (thinking && body.current !== null) body.current.scrollTop = body.current.scrollHeight;
  }, [thinking, message.reasoning]);

  const tokens = message.usage?.reasoning_tokens ?? 0;
  // Whole seconds while it goes on: a counter in milliseconds would only flicker.
  const seconds = Math.floor(Math.max(0, now - (message.reasoningStartedAt ?? now)) / 1000);
  const label = thinking
    ? `Thinking…${seconds > 0 ? ` ${seconds} s` : ""}`
    : message.reasoningMs === undefined
      ? "Thought"
      : `Thought for ${formatMs(message.reasoningMs)}`;
  return (
    <details
      data-testid="thinking"
      data-state={thinking ? "thinking" : "done"}
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
      className="group rounded-xl border border-border bg-surface/40 text-sm"
    >
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2 text-muted-foreground select-none [&::-webkit-details-marker]:hidden">
        <ChevronRight aria-hidden="true" className="size-4 transition-transform group-open:rotate-90" />
        <Brain aria-hidden="true" className={`size-3.5 ${thinking ? "animate-pulse" : ""}`} />
        <span data-testid="thinking-label" className="font-medium">
          {label}
        </span>
        {!thinking && tokens > 0 && <span className="ml-auto text-xs tabular-nums">{formatCount(tokens)} tokens</span>}
      </summary>
      <div
        ref={body}
        data-testid="reasoning"
        className="max-h-80 overflow-auto border-t border-border px-3 py-2.5 whitespace-pre-wrap break-words text-muted-foreground"
      >
        {message.reasoning}
      </div>
    </details>
  );
}

/** The time, renewed a few times a second while `ticking`. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
