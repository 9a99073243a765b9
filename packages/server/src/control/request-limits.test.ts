import { describe, expect, it } from "vitest";
import { InputError } from "../errors/input-error.js";
import { checkRequestLimits } from "./request-limits.js";

const limits = {
  maxMessageChars: 10,
  maxHistoryMessages: 2,
  maxTokens: 100,
  maxAttachmentBytes: 1_024,
  maxAttachments: 2,
};

function refusal(request: Parameters<typeof checkRequestLimits>[0]): InputError {
  try {
    checkRequestLimits(request, limits);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("the request was accepted");
}

describe("checkRequestLimits", () => {
  it("accepts a request within every limit", () => {
    expect(() =>
      checkRequestLimits(
        { message: "0123456789", history: [{ role: "user", content: "hi" }], max_tokens: 100 },
        limits,
      ),
    ).not.toThrow();
  });

  it("names every field over its limit", () => {
    const error = refusal({
      message: "01234567890",
      system_prompt: "x".repeat(11),
      history: [
        { role: "user", content: "ok" },
        { role: "assistant", content: "far too long" },
        { role: "user", content: "ok" },
      ],
      max_tokens: 101,
    });
    expect(Object.keys(error.fields).sort()).toEqual(
      ["history", "history.1.content", "max_tokens", "message", "system_prompt"].sort(),
    );
    expect(error.fields.max_tokens?.[0]).toMatch(/MAX_TOKENS_LIMIT/);
    expect(error.status).toBe(400);
  });

  it("checks each entry of a conversation, by its place in it", () => {
    const error = refusal({
      message: "",
      conversation: [
        { role: "user", content: "ok" },
        { role: "assistant", content: "", toolCalls: [{ id: "c", name: "n", arguments: "x".repeat(11) }] },
        { role: "tool", toolCallId: "c", content: "y".repeat(11) },
        { role: "user", content: "ok" },
      ],
    });
    expect(Object.keys(error.fields)).toEqual(["messages", "messages.1.tool_calls.0.arguments", "messages.2.content"]);
  });
});
