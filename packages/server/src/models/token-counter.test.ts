import { describe, expect, it } from "vitest";
import { roughTokens, slicesOf, TokenTally, tokenCounter } from "./token-counter.js";

describe("slicesOf", () => {
  it("joins the pieces and cuts them into slices no longer than asked, before a space when one is near", () => {
    const text = "alpha beta gamma delta ".repeat(20);
    const slices = [...slicesOf(text.match(/.{1,7}/gs) ?? [], 50)];
    expect(slices.join("")).toBe(text);
    for (const slice of slices) expect(slice.length).toBeLessThanOrEqual(50);
    // Each cut lands before a space: the words stay whole.
    for (const slice of slices.slice(1)) expect(slice.startsWith(" ")).toBe(true);
  });

  it("cuts a text without spaces at the size, never inside a surrogate pair", () => {
    const word = "😀".repeat(40);
    const slices = [...slicesOf([word], 9)];
    expect(slices.join("")).toBe(word);
    for (const slice of slices) {
      expect(slice.length).toBeLessThanOrEqual(9);
      // A lone surrogate would not survive UTF-8.
      expect(Buffer.from(slice).toString()).toBe(slice);
    }
  });
});

describe("TokenTally", () => {
  it("counts text exactly with o200k, and pieces as their joined text", async () => {
    expect(await tokenCounter.text("hello world")).toBe(2);
    expect(await tokenCounter.text(["hel", "lo", " world"])).toBe(2);
    expect(await tokenCounter.text("")).toBe(0);
    expect(await tokenCounter.text([])).toBe(0);
  });

  it("counts 100,000 characters without a space while the event loop keeps turning", async () => {
    let turns = 0;
    let slowest = 0;
    let last = performance.now();
    const beat = setInterval(() => {
      const now = performance.now();
      slowest = Math.max(slowest, now - last);
      last = now;
      turns += 1;
    }, 1);
    try {
      const tokens = await new TokenTally().text("w".repeat(100_000));
      expect(tokens).toBeGreaterThan(0);
    } finally {
      clearInterval(beat);
    }
    expect(turns).toBeGreaterThan(0);
    // The tokenizer runs elsewhere: the loop is never held for long (the unfixed count held it for seconds).
    expect(slowest).toBeLessThan(250);
  });

  it("estimates what is beyond its size at four characters a token, without counting it", async () => {
    const tally = new TokenTally({ exactChars: 1_200 });
    const counted = await tally.text("hello world ".repeat(100));
    expect(counted).toBe(await tokenCounter.text("hello world ".repeat(100)));
    // The size is spent: all that follows is estimated.
    const beyond = "w".repeat(1_000_000);
    expect(await tally.text(beyond)).toBe(roughTokens(beyond.length));
  });

  it("never says 0 for text, not even with no time left to count", async () => {
    const tally = new TokenTally({ budgetMs: 0 });
    expect(await tally.text("x")).toBe(1);
    expect(await tally.text("hello world")).toBe(roughTokens(11));
  });

  it("counts a prompt as the model reads it: messages with their framing, and the tools offered", async () => {
    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "hello" },
    ];
    const bare = await tokenCounter.messages(messages);
    // Three tokens to prime the reply, four per message, and the contents.
    expect(bare).toBe(3 + 4 + (await tokenCounter.text("Be brief.")) + 4 + (await tokenCounter.text("hello")));
    const tool = {
      name: "read_file",
      description: "Reads a file from the workspace and returns its text.",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    };
    const withTools = await tokenCounter.messages(messages, [tool]);
    const schema = await tokenCounter.text([tool.name, tool.description, JSON.stringify(tool.parameters)]);
    expect(withTools).toBe(bare + 12 + 8 + schema);
  });
});
