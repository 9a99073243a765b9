import { Check, CircleAlert, Copy, RefreshCw, RotateCcw, Square } from "lucide-react";
import { memo, useState } from "react";
import type { Message } from "../chat/conversation.ts";
import { copyText } from "../lib/clipboard.ts";
import { ApprovalCard } from "./approval-card.tsx";
import { AttachmentStrip } from "./attachment-strip.tsx";
import { InputRequestCard } from "./input-request-card.tsx";
import { Markdown } from "./markdown.tsx";
import { ObjectView } from "./object-view.tsx";
import { ThinkingBlock } from "./thinking-block.tsx";
import { ToolCard } from "./tool-card.tsx";
import { UsageLine } from "./usage-line.tsx";

interface MessageViewProps {
  message: Message;
  /** The last answer can be regenerated (or retried after an error). */
  isLast: boolean;
  busy: boolean;
  /** Called with the message's id. */
  onRerun(messageId: string): void;
}

export const MessageView = memo(function MessageView({ message, isLast, busy, onRerun }: MessageViewProps) {
  if (message.role === "user") {
    return (
      <article data-role="user" className="flex flex-col items-end gap-1">
        {(message.attachments?.length ?? 0) > 0 && (
          <AttachmentStrip
            items={(message.attachments ?? []).map((kept, index) => ({ id: `${message.id}-${index}`, kept }))}
          />
        )}
        <div className="max-w-[85%] rounded-2xl rounded-br-md bg-muted px-4 py-2.5 whitespace-pre-wrap break-words">
          {message.content}
        </div>
      </article>
    );
  }

  const streaming = message.status === "streaming";
  const reasoned = (message.reasoning ?? "") !== "";
  const waiting = streaming && message.content === "" && !reasoned && (message.tools?.length ?? 0) === 0;
  return (
    <article
      data-role="assistant"
      data-status={message.status}
      aria-busy={streaming}
      className="group/answer flex flex-col gap-2"
    >
      {reasoned && <ThinkingBlock message={message} />}
      {message.tools?.map((tool) => (
        <div key={tool.id} className="flex flex-col gap-2">
          <ToolCard tool={tool} />
          {tool.approval !== undefined && <ApprovalCard tool={tool} approval={tool.approval} runId={message.run?.id} />}
          {tool.inputs?.map((input) => (
            <InputRequestCard key={input.id} tool={tool} input={input} runId={message.run?.id} />
          ))}
        </div>
      ))}
      {waiting && <Thinking />}
      {message.object !== undefined && (
        <ObjectView object={message.object} text={message.content} streaming={streaming} />
      )}
      {message.object === undefined && message.content !== "" && (
        <div data-testid="answer" className="answer">
          <Markdown text={message.content} streaming={streaming} />
        </div>
      )}
      {message.status === "error" && message.error !== undefined && (
        <div
          role="alert"
          className="flex flex-wrap items-center gap-x-3 gap-y-2 rounded-xl border border-danger/30 bg-danger/5 px-3 py-2 text-sm"
        >
          <CircleAlert aria-hidden="true" className="size-4 shrink-0 text-danger" />
          <span className="min-w-0 flex-1">{message.error.message}</span>
          {isLast && (
            <button
              type="button"
              onClick={() => onRerun(message.id)}
              disabled={busy}
              className="inline-flex items-center gap-1 rounded-lg border border-border bg-background px-2.5 py-1 text-xs font-medium hover:bg-muted disabled:opacity-50"
            >
              <RotateCcw aria-hidden="true" className="size-3.5" />
              Retry
            </button>
          )}
        </div>
      )}
      {!streaming && (
        <footer className="flex min-h-7 flex-wrap items-center gap-x-3 gap-y-1">
          <div className="flex items-center gap-0.5">
            {message.content !== "" && <CopyButton text={message.content} />}
            {isLast && message.status !== "error" && (
              <button
                type="button"
                onClick={() => onRerun(message.id)}
                disabled={busy}
                aria-label="Regenerate"
                title="Regenerate"
                className="rounded-md p-1.5 text-muted-foreground hover:bg-muted hover:text-foreground disabled:opacity-50"
              >
                <RefreshCw aria-hidden="true" className="size-3.5" />
              </button>
            )}
          </div>
          {message.status === "stopped" && (
            <span
              data-testid="stopped"
              className="inline-flex items-center gap-1.5 rounded-md bg-muted px-2 py-0.5 text-xs text-muted-foreground"
            >
              <Square aria-hidden="true" className="size-2.5 fill-current" />
              Stopped
            </span>
          )}
          {(message.status !== "error" || (message.usage?.total_tokens ?? 0) > 0) && <UsageLine message={message} />}
        </footer>
      )}
    </article>
  );
});

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      aria-label={copied ? "Copied" : "Copy"}
      title="Copy"
      onClick={async () => {
        if (await copyText(text)) {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }
      }}
      className="rounded-md p-1.5 text-muted-foreground hover:bg-muted hover:text-foreground"
    >
      {copied ? <Check aria-hidden="true" className="size-3.5" /> : <Copy aria-hidden="true" className="size-3.5" />}
    </button>
  );
}

function Thinking() {
  return (
    <div role="status" aria-label="Waiting for the answer" className="flex h-7 items-center gap-1">
      {[0, 150, 300].map((delay) => (
        <span
          key={delay}
          className="size-1.5 animate-bounce rounded-full bg-muted-foreground/60"
          style={{ animationDelay: `${delay}ms` }}
        />
      ))}
    </div>
  );
}
