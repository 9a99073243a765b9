import type { ModelMessage } from "./chat-model.js";

type CountTokens = (text: string) => number;

let counter: Promise<CountTokens> | undefined;

/**
 * Loads the tokenizer on first use: it costs ~35 MB of heap and ~0.3 s, and is needed only
 * when an upstream reports no usage.
 */
function loadCounter(): Promise<CountTokens> {
  // User text may contain "<|endoftext|>" and the like: count it as text, do not throw.
  const plain = { disallowedSpecial: new Set<string>() };
  counter ??= import("gpt-tokenizer").then((module) => (text: string) => module.countTokens(text, plain));
  return counter;
}

/** Local token counts (o200k_base), used when the upstream sends no usage. */
export const tokenCounter = {
  async text(text: string): Promise<number> {
    if (text === "") return 0;
    return (await loadCounter())(text);
  },

  /** Chat messages as OpenAI counts them: each message has a few tokens of framing. */
  async messages(messages: readonly ModelMessage[]): Promise<number> {
    const count = await loadCounter();
    let total = 3;
    for (const message of messages) {
      total += 4 + count(message.content);
      if (message.role === "assistant") {
        for (const call of message.toolCalls ?? []) total += 4 + count(call.name) + count(call.arguments);
      }
    }
    return total;
  },
};
