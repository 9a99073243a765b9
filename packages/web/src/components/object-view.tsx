import { ChevronRight } from "lucide-react";
import type { Message } from "../chat/conversation.ts";
import { Markdown } from "./markdown.tsx";

/** A fence longer than any run of backticks in the text, so that no string in the JSON ends the block. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return "`".repeat(Math.max(3, longest + 1));
}

/**
 * A typed answer: its object as formatted JSON (a highlighted code block) that fills in while it
 * streams, and the text the model wrote folded away beneath it.
 */
export function ObjectView({
  object,
  text,
  streaming,
}: {
  object: Message["object"];
  text: string;
  streaming: boolean;
}) {
  const json = JSON.stringify(object, null, 2);
  const fence = fenceFor(json);
  return (
    <div className="flex flex-col gap-2">
      <div data-testid="answer-object" className="answer">
        <Markdown text={`${fence}json\n${json}\n${fence}`} streaming={streaming} />
      </div>
      <details data-testid="raw-text" className="group rounded-xl border border-border bg-surface/60 text-sm">
        <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2 text-muted-foreground select-none hover:text-foreground [&::-webkit-details-marker]:hidden">
          <ChevronRight aria-hidden="true" className="size-4 transition-transform group-open:rotate-90" />
          Raw text
        </summary>
        <pre className="max-h-72 overflow-auto border-t border-border px-3 py-2.5 font-mono text-xs break-all whitespace-pre-wrap">
          {text}
        </pre>
      </details>
    </div>
  );
}
