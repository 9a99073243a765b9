import { describe, expect, it } from "vitest";
import { checkRequestLimits } from "../../control/request-limits.js";
import { InputError } from "../../errors/input-error.js";
import { decodeResponsesRequest } from "./decode-responses-request.js";

function refusedFields(body: unknown): string[] {
  try {
    decodeResponsesRequest(body);
  } catch (error) {
    if (error instanceof InputError) return Object.keys(error.fields);
    throw error;
  }
  throw new Error("the body was accepted");
}

describe("decodeResponsesRequest", () => {
  it("turns instructions and input items into Brook's conversation", () => {
    const decoded = decodeResponsesRequest({
      model: "m",
      instructions: "Be brief.",
      input: [
        { role: "developer", content: [{ type: "input_text", text: "Metric units." }] },
        { role: "user", content: "Weather in Oslo?" },
        { type: "reasoning", id: "rs_1", summary: [] },
        {
          type: "message",
          role: "assistant",
          id: "msg_1",
          status: "completed",
          content: [{ type: "output_text", text: "Checking.", annotations: [] }],
        },
        { type: "function_call", id: "fc_1", call_id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call", call_id: "c2", name: "get_time", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "sunny" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "noon" }] },
      ],
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: true }],
      reasoning: { effort: "high" },
      max_output_tokens: 99,
      stream: true,
    });
    expect(decoded.stream).toBe(true);
    expect(decoded.callerTools).toEqual(new Set(["get_weather"]));
    expect(decoded.reasoningAsSummary).toBe(false);
    expect(decoded.request).toMatchObject({
      message: "Weather in Oslo?",
      model: "m",
      max_tokens: 99,
      reasoning_effort: "high",
      callerTools: [{ name: "get_weather", description: "", parameters: { type: "object" } }],
    });
    expect(decoded.request.conversation).toEqual([
      { role: "system", content: "Be brief." },
      { role: "system", content: "Metric units." },
      { role: "user", content: "Weather in Oslo?" },
      {
        role: "assistant",
        content: "Checking.",
        toolCalls: [
          { id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' },
          { id: "c2", name: "get_time", arguments: "{}" },
        ],
      },
      { role: "tool", toolCallId: "c1", content: "sunny" },
      { role: "tool", toolCallId: "c2", content: "noon" },
    ]);
  });

  it("takes a string input as one user message, and text.format json_schema as a typed answer", () => {
    const decoded = decodeResponsesRequest({
      input: "Hi",
      text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true } },
      reasoning: { summary: "auto" },
    });
    expect(decoded.request.conversation).toEqual([{ role: "user", content: "Hi" }]);
    expect(decoded.request.output).toEqual({ schema: { type: "object" }, name: "answer", strict: true });
    expect(decoded.reasoningAsSummary).toBe(true);
    expect(decoded.settings).toMatchObject({
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { summary: "auto" },
    });
  });

  it("refuses the stored-state fields and unknown ones by name", () => {
    expect(refusedFields({ input: "x", store: true })).toEqual(["store"]);
    expect(refusedFields({ input: "x", previous_response_id: "resp_1" })).toEqual(["previous_response_id"]);
    expect(refusedFields({ input: "x", background: true })).toEqual(["background"]);
    expect(refusedFields({ input: "x", modalities: ["audio"] })).toEqual(["modalities"]);
    expect(refusedFields({ input: "x", reasoning: { effort: "low", budget: 5 } })).toEqual(["reasoning.budget"]);
    expect(refusedFields({ input: ["x"] })).toEqual(["input.0"]);
    expect(refusedFields({ input: [{ type: "function_call_output", output: "x" }] })).toEqual(["input.0.call_id"]);
    expect(refusedFields({})).toEqual(["input"]);
    // Accepted with the value that changes nothing.
    expect(() =>
      decodeResponsesRequest({ input: "x", store: false, include: [], truncation: "disabled" }),
    ).not.toThrow();
  });

  it("names the caller's fields when a limit refuses them", () => {
    const decoded = decodeResponsesRequest({
      instructions: "x".repeat(20),
      input: [
        { role: "user", content: "y".repeat(20) },
        { type: "function_call", call_id: "c1", name: "f", arguments: "z".repeat(20) },
      ],
      max_output_tokens: 500,
    });
    const limits = {
      maxMessageChars: 10,
      maxHistoryMessages: 10,
      maxTokens: 100,
      maxAttachmentBytes: 1024,
      maxAttachments: 8,
    };
    let error: InputError | undefined;
    try {
      checkRequestLimits(decoded.request, limits);
    } catch (thrown) {
      error = thrown as InputError;
    }
    expect(Object.keys(error?.fields ?? {}).sort()).toEqual([
      "input.0.content",
      "input.1.arguments",
      "instructions",
      "max_output_tokens",
    ]);
  });

  it("takes a user's images and files as parts, one for one, named by their place when a limit refuses them", () => {
    const file = `data:text/markdown;base64,${Buffer.from("# notes").toString("base64")}`;
    const decoded = decodeResponsesRequest({
      instructions: "Be brief.",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Compare" },
            { type: "input_image", image_url: "https://10.0.0.1/a.png", detail: "high" },
            { type: "input_file", filename: "notes.md", file_data: file },
          ],
        },
      ],
    });
    expect(decoded.request.message).toBe("Compare");
    expect(decoded.request.conversation?.[1]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Compare" },
        { type: "image_url", image_url: { url: "https://10.0.0.1/a.png", detail: "high" } },
        { type: "file", name: "notes.md", mediaType: "text/markdown", text: "# notes" },
      ],
    });
    const limits = {
      maxMessageChars: 1000,
      maxHistoryMessages: 10,
      maxTokens: 100,
      maxAttachmentBytes: 4,
      maxAttachments: 8,
    };
    let error: InputError | undefined;
    try {
      checkRequestLimits(decoded.request, limits);
    } catch (thrown) {
      error = thrown as InputError;
    }
    expect(Object.keys(error?.fields ?? {}).sort()).toEqual([
      "input.0.content.1.image_url",
      "input.0.content.2.file_data",
    ]);
  });
});
