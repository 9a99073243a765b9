import { Streamdown } from "streamdown";
import { codeHighlighter } from "../lib/code-highlighter.ts";

const plugins = { code: codeHighlighter };

/** Streaming-safe Markdown (unfinished fences, lists and emphasis render as they will end up). */
export function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <Streamdown
      plugins={plugins}
      isAnimating={streaming}
      caret={streaming ? "block" : undefined}
      controls={{ code: { copy: true, download: false }, table: true }}
      shikiTheme={codeHighlighter.getThemes()}
    >
      {text}
    </Streamdown>
  );
}
