import type { ModelContentPart, ModelMessage, ModelTool } from "./chat-model.js";
import { imageTokens, inlinedFile } from "./message-parts.js";
import { countInWorker } from "./token-worker.js";

/**
 * Characters counted in one go. The tokenizer's cost grows with the square of a word's length
 * (100,000 characters without a space took 9 s): slices this short take milliseconds at worst.
 */
export const sliceChars = 1024;

/** Characters one estimate counts exactly; the rest is estimated at four characters a token. */
export const exactChars = 512 * 1024;

/** Time one estimate may spend counting exactly; the rest is estimated at four characters a token. */
export const countingBudgetMs = 1_000;

/** OpenAI's framing: every reply is primed with a few tokens, every message has a few of its own. */
const replyPriming = 3;
const perMessage = 4;
/** Offered tools reach the model as text too: a preamble once, and some framing per tool. */
const toolsPreamble = 12;
const perTool = 8;

/** Four characters a token, at least one for any text: what is not counted is still estimated. */
export function roughTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * One estimate: local token counts (o200k_base), used when the upstream sends no usage. The
 * tokenizer runs in a worker thread, in slices of `sliceChars`, up to `exactChars` characters
 * and `countingBudgetMs` of counting in all; beyond that, and whatever the tokenizer fails on,
 * is estimated at four characters a token. It never blocks the event loop, and never says 0
 * for text.
 */
export class TokenTally {
  #exactLeft: number;
  #budgetLeftMs: number;

  constructor(limits: { exactChars?: number; budgetMs?: number } = {}) {
    this.#exactLeft = limits.exactChars ?? exactChars;
    this.#budgetLeftMs = limits.budgetMs ?? countingBudgetMs;
  }

  /** Tokens of a text, or of the pieces that make it up (counted as the joined text, without joining it). */
  async text(text: string | readonly string[]): Promise<number> {
    const pieces = typeof text === "string" ? [text] : text;
    let chars = 0;
    for (const piece of pieces) chars += piece.length;
    if (chars === 0) return 0;
    const slices: string[] = [];
    let sliced = 0;
    if (this.#budgetLeftMs > 0) {
      for (const slice of slicesOf(pieces, sliceChars)) {
        if (sliced >= this.#exactLeft) break;
        slices.push(slice);
        sliced += slice.length;
      }
    }
    const { tokens, counted, spentMs } = await countInWorker(slices, this.#budgetLeftMs);
    this.#budgetLeftMs -= spentMs;
    this.#exactLeft -= counted;
    return tokens + roughTokens(chars - counted);
  }

  /** A message's content: its text and files as text, each image by OpenAI's tile rule. */
  async content(content: string | readonly ModelContentPart[]): Promise<number> {
    if (typeof content === "string") return this.text(content);
    const texts: string[] = [];
    let images = 0;
    for (const part of content) {
      if (part.type === "text") texts.push(part.text);
      else if (part.type === "file") texts.push(inlinedFile(part.name, part.mediaType, part.text));
      else images += imageTokens(part);
    }
    return images + (await this.text(texts));
  }

  /** A prompt as the model reads it: the messages with their framing, and the tools offered. */
  async prompt(messages: readonly ModelMessage[], tools: readonly ModelTool[] = []): Promise<number> {
    let total = replyPriming;
    for (const message of messages) {
      total += perMessage + (await this.content(message.content));
      if (message.role === "assistant") {
        for (const call of message.toolCalls ?? [])
          total += perMessage + (await this.text([call.name, call.arguments]));
      }
    }
    if (tools.length > 0) total += toolsPreamble;
    for (const tool of tools) {
      total += perTool + (await this.text([tool.name, tool.description, JSON.stringify(tool.parameters)]));
    }
    return total;
  }
}

/** Local token counts, each call one estimate of its own. */
export const tokenCounter = {
  text(text: string | readonly string[]): Promise<number> {
    return new TokenTally().text(text);
  },

  /** Chat messages (and the tools offered) as OpenAI counts them. */
  messages(messages: readonly ModelMessage[], tools?: readonly ModelTool[]): Promise<number> {
    return new TokenTally().prompt(messages, tools);
  },
};

/**
 * The joined pieces in slices of at most `size` characters, cut before a space where one is
 * near (a word then keeps its leading space, as the tokenizer splits), never inside a
 * surrogate pair.
 */
export function* slicesOf(pieces: readonly string[], size: number): Generator<string> {
  let pending = "";
  for (const piece of pieces) {
    pending = pending === "" ? piece : pending + piece;
    while (pending.length > size) {
      const cut = cutPoint(pending, size);
      yield pending.slice(0, cut);
      pending = pending.slice(cut);
    }
  }
  if (pending !== "") yield pending;
}

function cutPoint(text: string, size: number): number {
  const space = Math.max(text.lastIndexOf(" ", size), text.lastIndexOf("\n", size));
  if (space > size / 2) return space;
  const code = text.charCodeAt(size - 1);
  return code >= 0xd800 && code <= 0xdbff ? size - 1 : size;
}
