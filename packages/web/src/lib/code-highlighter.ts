import type { CodeHighlighterPlugin as StreamdownCode } from "@streamdown/code";
import type { CodeHighlighterPlugin } from "streamdown";

const themes: ["github-light", "github-dark"] = ["github-light", "github-dark"];

let loaded: StreamdownCode | undefined;
let loading: Promise<StreamdownCode> | undefined;

function load(): Promise<StreamdownCode> {
  loading ??= import("@streamdown/code").then(({ createCodePlugin }) => {
    loaded = createCodePlugin({ themes });
    return loaded;
  });
  return loading;
}

/**
 * Streamdown's Shiki plugin, fetched with Shiki when the first code block is shown (and each
 * grammar when a block needs it), so that answers without code never download a highlighter.
 * Until then a block shows its plain text. (`as never`: Streamdown and the plugin declare the
 * same option shapes as types of their own.)
 */
export const codeHighlighter: CodeHighlighterPlugin = {
  name: "shiki",
  type: "code-highlighter",
  getThemes: () => themes,
  getSupportedLanguages: () => loaded?.getSupportedLanguages() ?? [],
  supportsLanguage: (language) => loaded?.supportsLanguage(language as never) ?? false,
  highlight(options, callback) {
    if (loaded !== undefined) return loaded.highlight(options as never, callback);
    load().then(
      (plugin) => {
        const result = plugin.highlight(options as never, callback);
        if (result !== null) callback?.(result);
      },
      (error: unknown) => console.error("Brook: the code highlighter did not load.", error),
    );
    return null;
  },
};
