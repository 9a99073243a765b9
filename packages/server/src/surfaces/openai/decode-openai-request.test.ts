import { describe, expect, it } from "vitest";
import { checkRequestLimits } from "../../control/request-limits.js";
import { InputError } from "../../errors/input-error.js";
import { decodeOpenAIRequest } from "./decode-openai-request.js";

function refusedFields(body: unknown): string[] {
  try {
    decodeOpenAIRequest(body);
  } catch (error) {
    if (error instanceof InputError) return Object.keys(error.fields);
    throw error;
  }
  throw new Error("the body was accepted");
}

describe("decodeOpenAIRequest", () => {
  it("turns OpenAI's messages and options into Brook's request", () => {
    const decoded = decodeOpenAIRequest({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      max_tokens: 10,
      max_completion_tokens: 20,
      tool_choice: "required",
      reasoning_effort: "high",
      parallel_tool_calls: true,
      user: "someone",
      n: 1,
      top_p: 1,
      seed: null,
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      messages: [
        {
          role: "developer",
          content: [
            { type: "text", text: "Be " },
            { type: "text", text: "brief." },
          ],
        },
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "get_weather", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c", content: "sunny" },
      ],
    });
    expect(decoded).toEqual({
      stream: true,
      includeUsage: true,
      callerTools: new Set(["get_weather"]),
      request: {
        message: "weather?",
        model: "m",
        fieldNames: expect.any(Object),
        temperature: 0.3,
        max_tokens: 20,
        toolChoice: "required",
        parallelToolCalls: true,
        reasoning_effort: "high",
        top_p: 1,
        seed: null,
        callerTools: [{ name: "get_weather", description: "", parameters: { type: "object" } }],
        conversation: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "weather?" },
          { role: "assistant", content: "", toolCalls: [{ id: "c", name: "get_weather", arguments: "{}" }] },
          { role: "tool", toolCallId: "c", content: "sunny" },
        ],
      },
    });
  });

  it("passes sampling options on, and accepts the caller's bookkeeping", () => {
    const { request } = decodeOpenAIRequest({
      messages: [{ role: "user", content: "hi" }],
      top_p: 0.9,
      presence_penalty: -0.5,
      frequency_penalty: 1.5,
      seed: 42,
      stop: "END",
      parallel_tool_calls: false,
      n: 1,
      user: "someone",
      metadata: { team: "a" },
      store: false,
      service_tier: "auto",
      logprobs: false,
    });
    expect(request).toMatchObject({
      top_p: 0.9,
      presence_penalty: -0.5,
      frequency_penalty: 1.5,
      seed: 42,
      stop: "END",
      parallelToolCalls: false,
    });
    expect(decodeOpenAIRequest({ messages: [{ role: "user", content: "hi" }], stop: ["a", "b"] }).request.stop).toEqual(
      ["a", "b"],
    );
  });

  it("refuses what Brook cannot honour, naming it", () => {
    const messages = [{ role: "user", content: "hi" }];
    expect(refusedFields({ messages, n: 2 })).toEqual(["n"]);
    expect(refusedFields({ messages, n: 3, logprobs: true, top_logprobs: 5 })).toEqual([
      "n",
      "logprobs",
      "top_logprobs",
    ]);
    expect(refusedFields({ messages, modalities: ["text", "audio"] })).toEqual(["modalities.1"]);
    expect(refusedFields({ messages, audio: { voice: "alloy", format: "wav" } })).toEqual(["audio"]);
    expect(refusedFields({ messages, store: true })).toEqual(["store"]);
    expect(refusedFields({ messages, logit_bias: { "42": 1 } })).toEqual(["logit_bias"]);
    // OpenAI's ranges.
    expect(
      refusedFields({ messages, top_p: 1.5, presence_penalty: -3, frequency_penalty: 2.5, seed: 0.5, temperature: 3 }),
    ).toEqual(["temperature", "top_p", "presence_penalty", "frequency_penalty", "seed"]);
    expect(refusedFields({ messages, stop: ["a", "b", "c", "d", "e"] })).toEqual(["stop"]);
    expect(refusedFields({ messages, stop: "" })).toEqual(["stop"]);
    expect(refusedFields({ messages, response_format: { type: "json_xml" } })).toEqual(["response_format.type"]);
    expect(refusedFields({ messages, response_format: { type: "json_schema", json_schema: { name: "x" } } })).toEqual([
      "response_format.json_schema.schema",
    ]);
    expect(refusedFields({ messages: [] })).toEqual(["messages"]);
    expect(refusedFields({ messages: [{ role: "function", name: "f", content: "x" }] })).toEqual(["messages.0.role"]);
    expect(refusedFields({ messages: [{ role: "user", content: [{ type: "input_audio" }] }] })[0]).toMatch(
      /^messages\.0\.content/,
    );
    expect(refusedFields({ messages, tools: [{ type: "custom", custom: { name: "x" } }] })).toContain("tools.0.type");
    const tool = { type: "function", function: { name: "same" } };
    expect(refusedFields({ messages, tools: [tool, tool] })).toEqual(["tools"]);
  });

  it("names the fields over a limit as OpenAI's body spells them", () => {
    const long = "x".repeat(20);
    const { request } = decodeOpenAIRequest({
      model: "m",
      max_completion_tokens: 500,
      messages: [
        { role: "system", content: long },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "t", arguments: long } }],
        },
        { role: "tool", tool_call_id: "c1", content: "ok" },
        { role: "user", content: "hi" },
      ],
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
      "max_completion_tokens",
      "messages.0.content",
      "messages.1.tool_calls.0.function.arguments",
    ]);
  });
});
