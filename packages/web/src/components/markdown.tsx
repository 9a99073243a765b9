import { code } from "@streamdown/code";
import { Streamdown } from "streamdown";

const plugins = { code };

/** Streaming-safe Markdown (unfinished fences, lists and emphasis render as they will end up). */
export function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <Streamdown
      plugins={plugins}
      isAnimating={streaming}
      caret={streaming ? "block" : undefined}
      controls={{ code: { copy: true, download: false }, table: true }}
      shikiTheme={["github-light", "github-dark"]}
    >
      {text}
    </Streamdown>
  );
}
