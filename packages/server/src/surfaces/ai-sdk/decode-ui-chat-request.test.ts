import { describe, expect, it } from "vitest";
import { checkRequestLimits } from "../../control/request-limits.js";
import { InputError } from "../../errors/input-error.js";
import { decodeUIChatRequest } from "./decode-ui-chat-request.js";

const user = (text: string) => ({ id: "u", role: "user", parts: [{ type: "text", text }] });

function refusal(body: unknown): InputError {
  try {
    decodeUIChatRequest(body);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("the body was accepted");
}

/** A body that asks for a new answer. */
function decodeNew(body: unknown) {
  const decoded = decodeUIChatRequest(body);
  if (!("request" in decoded)) throw new Error("expected a new answer");
  return decoded;
}

describe("decodeUIChatRequest", () => {
  it("reads the answers of tool parts in state approval-responded, and names a malformed one", () => {
    const answered = (approval: unknown) => ({
      id: "chat-1",
      messages: [
        { id: "u1", role: "user", parts: [{ type: "text", text: "tidy up" }] },
        {
          id: "a1",
          role: "assistant",
          parts: [
            { type: "step-start" },
            {
              type: "dynamic-tool",
              toolName: "rm",
              toolCallId: "c1",
              state: "approval-responded",
              input: {},
              approval,
            },
          ],
        },
      ],
    });
    expect(decodeUIChatRequest(answered({ id: "ap-1", approved: false, reason: "no" }))).toEqual({
      chatId: "chat-1",
      approvals: [{ id: "ap-1", approved: false, reason: "no" }],
    });
    expect(() => decodeUIChatRequest(answered({ id: "ap-1" }))).toThrow(/messages\.1\.parts\.1\.approval/);
  });

  it("turns useChat's messages into a conversation, the new user message last, and reads Brook's options", () => {
    const { chatId, request } = decodeNew({
      id: "chat-1",
      trigger: "submit-message",
      messageId: null,
      somethingOfTheApp: true,
      brook: { system_prompt: "Be kind.", model: "m", temperature: 0.1, max_tokens: 9, tools: ["add"] },
      messages: [
        { id: "s", role: "system", parts: [{ type: "text", text: "House rules." }] },
        {
          id: "u1",
          role: "user",
          parts: [
            { type: "text", text: "one" },
            { type: "data-note", data: 1 },
            { type: "text", text: "two" },
          ],
        },
        {
          id: "a1",
          role: "assistant",
          metadata: { run_id: "r" },
          parts: [
            { type: "step-start" },
            { type: "reasoning", text: "hmm" },
            { type: "text", text: "Let me add." },
            {
              type: "dynamic-tool",
              toolName: "add",
              toolCallId: "c1",
              state: "output-available",
              input: { a: 1 },
              output: "2",
            },
            { type: "tool-weather", toolCallId: "c2", state: "output-error", input: {}, errorText: "no sky" },
            { type: "dynamic-tool", toolName: "add", toolCallId: "c3", state: "input-available", input: {} },
            { type: "step-start" },
            { type: "text", text: "It is 2." },
          ],
        },
        user("three"),
      ],
    });
    expect(chatId).toBe("chat-1");
    expect(request).toEqual({
      message: "three",
      fieldNames: expect.any(Object),
      system_prompt: "Be kind.",
      model: "m",
      temperature: 0.1,
      max_tokens: 9,
      tools: ["add"],
      conversation: [
        { role: "system", content: "House rules." },
        { role: "user", content: "one\ntwo" },
        {
          role: "assistant",
          content: "Let me add.",
          toolCalls: [
            { id: "c1", name: "add", arguments: '{"a":1}' },
            { id: "c2", name: "weather", arguments: "{}" },
          ],
        },
        { role: "tool", toolCallId: "c1", content: "2" },
        { role: "tool", toolCallId: "c2", content: "no sky" },
        { role: "assistant", content: "It is 2." },
        { role: "user", content: "three" },
      ],
    });
  });

  it("sends non-text tool output back as JSON", () => {
    const { request } = decodeNew({
      id: "c",
      messages: [
        user("q"),
        {
          id: "a",
          role: "assistant",
          parts: [
            {
              type: "dynamic-tool",
              toolName: "t",
              toolCallId: "x",
              state: "output-available",
              input: {},
              output: { n: 1 },
            },
          ],
        },
        user("again"),
      ],
    });
    expect(request.conversation?.[2]).toEqual({ role: "tool", toolCallId: "x", content: '{"n":1}' });
  });

  it("names what is wrong", () => {
    expect(Object.keys(refusal({ messages: [user("x")] }).fields)).toEqual(["id"]);
    expect(Object.keys(refusal({ id: "a/b", messages: [user("x")] }).fields)).toEqual(["id"]);
    expect(
      Object.keys(refusal({ id: "c", messages: [{ id: "u", role: "user", parts: [{ type: "text" }] }] }).fields),
    ).toEqual(["messages.0.parts.0.text"]);
    expect(
      Object.keys(refusal({ id: "c", messages: [user("x"), { id: "a", role: "assistant", parts: [] }] }).fields),
    ).toEqual(["messages.1.role"]);
    expect(Object.keys(refusal({ id: "c", messages: [user("  ")] }).fields)).toEqual(["messages.0.parts"]);
    expect(
      Object.keys(
        refusal({
          id: "c",
          messages: [{ id: "u", role: "user", parts: [{ type: "file", mediaType: "image/png", url: "data:" }] }],
        }).fields,
      ),
    ).toEqual(["messages.0.parts.0"]);
    expect(Object.keys(refusal({ id: "c", messages: [user("x")], brook: { temperature: 3 } }).fields)).toEqual([
      "brook.temperature",
    ]);
  });

  it("names the fields over a limit as useChat's body spells them", () => {
    const long = "x".repeat(20);
    const { request } = decodeNew({
      id: "chat-1",
      messages: [
        user("hi"),
        {
          id: "a",
          role: "assistant",
          parts: [
            { type: "text", text: long },
            {
              type: "dynamic-tool",
              toolName: "t",
              toolCallId: "c1",
              state: "output-available",
              input: { q: long },
              output: "ok",
            },
          ],
        },
        user(long),
      ],
      brook: { system_prompt: long, max_tokens: 500 },
    });
    let refused: unknown;
    try {
      checkRequestLimits(request, {
        maxMessageChars: 10,
        maxHistoryMessages: 10,
        maxTokens: 100,
        maxAttachmentBytes: 1_024,
        maxAttachments: 2,
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(InputError);
    expect(Object.keys((refused as InputError).fields).sort()).toEqual([
      "brook.max_tokens",
      "brook.system_prompt",
      "messages.1.parts",
      "messages.2.parts",
    ]);
  });
});
