import { describe, expect, it } from "vitest";
import type { ModelCall, ModelPart } from "./chat-model.js";
import { DemoChatModel } from "./demo-chat-model.js";
import { tokenCounter } from "./token-counter.js";

async function partsOf(call: Omit<ModelCall, "model" | "signal">): Promise<ModelPart[]> {
  const parts: ModelPart[] = [];
  const model = new DemoChatModel(0);
  for await (const batch of model.stream({ model: "brook-demo", signal: new AbortController().signal, ...call })) {
    parts.push(...batch);
  }
  return parts;
}

const textOf = (parts: readonly ModelPart[], type: "text" | "reasoning") =>
  parts.map((part) => (part.type === type ? part.text : "")).join("");
const finishOf = (parts: readonly ModelPart[]) => parts.find((part) => part.type === "finish");
const usageOf = (parts: readonly ModelPart[]) => parts.find((part) => part.type === "usage");

describe("DemoChatModel", () => {
  const messages = [{ role: "user" as const, content: "Hello there" }];

  it("answers in full with finish reason stop when no limit is set", async () => {
    const parts = await partsOf({ messages });
    expect(finishOf(parts)).toEqual({ type: "finish", reason: "stop" });
    const text = textOf(parts, "text");
    expect(text).toContain("demo mode");
    expect(usageOf(parts)).toMatchObject({ outputTokens: await tokenCounter.text(text) });
  });

  it("honours max_tokens: the answer ends within the limit, with finish reason length", async () => {
    const parts = await partsOf({ messages, maxTokens: 12 });
    expect(finishOf(parts)).toEqual({ type: "finish", reason: "length" });
    const text = textOf(parts, "text");
    expect(text).not.toBe("");
    const usage = usageOf(parts);
    expect(usage).toMatchObject({ outputTokens: await tokenCounter.text(text) });
    expect(usage?.type === "usage" ? usage.outputTokens : 0).toBeLessThanOrEqual(12);
    expect(usage?.type === "usage" ? usage.outputTokens : 0).toBeGreaterThanOrEqual(8);
  });

  it("counts the thinking against max_tokens too", async () => {
    const parts = await partsOf({ messages: [{ role: "user", content: "Think about it" }], maxTokens: 5 });
    expect(finishOf(parts)).toEqual({ type: "finish", reason: "length" });
    expect(textOf(parts, "reasoning")).not.toBe("");
    expect(textOf(parts, "text")).toBe("");
    expect(usageOf(parts)).toMatchObject({ reasoningTokens: expect.any(Number) });
    const usage = usageOf(parts);
    expect(usage?.type === "usage" ? usage.outputTokens : 99).toBeLessThanOrEqual(5);
  });

  it("honours stop: the answer ends before the first stop sequence", async () => {
    const parts = await partsOf({ messages, stop: ["demo mode", "Hello"] });
    expect(textOf(parts, "text")).toBe("");
    const cut = await partsOf({ messages, stop: ["**"] });
    expect(textOf(cut, "text")).toBe("Hello! Brook is running in ");
    expect(finishOf(cut)).toEqual({ type: "finish", reason: "stop" });
  });

  it("calls a tool the message names, with arguments from its schema", async () => {
    const parts = await partsOf({
      messages: [{ role: "user", content: "Use read_file on docs/cli.md" }],
      tools: [
        {
          name: "files__read_file",
          description: "Reads a file.",
          parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
        },
      ],
    });
    const call = parts.find((part) => part.type === "tool_call");
    expect(call?.type === "tool_call" ? JSON.parse(call.call.arguments) : undefined).toEqual({ path: "docs/cli.md" });
    expect(finishOf(parts)).toEqual({ type: "finish", reason: "tool_calls" });
  });

  it("answers with a tool's result when the tool's images follow it, not calling the tool again", async () => {
    const parts = await partsOf({
      messages: [
        { role: "user", content: "Use chart please" },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "chart", arguments: "{}" }] },
        { role: "tool", toolCallId: "c1", content: "a bar chart" },
        {
          role: "user",
          content: [{ type: "text", text: 'The tool "chart" (call c1) returned this image:' }],
          toolImages: true,
        },
      ],
      tools: [{ name: "chart", description: "Draws a chart.", parameters: { type: "object", properties: {} } }],
    });
    expect(parts.some((part) => part.type === "tool_call")).toBe(false);
    expect(textOf(parts, "text")).toContain("a bar chart");
  });
});
