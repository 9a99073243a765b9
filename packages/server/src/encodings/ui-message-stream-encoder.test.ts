import { type ChatEvent, UIMessageChunk } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { uiMessageStreamEncoder } from "./ui-message-stream-encoder.js";

const usage = {
  input_tokens: 3,
  output_tokens: 4,
  total_tokens: 7,
  total_cost: 0.5,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};
const timing = { ttft_ms: 1, duration_ms: 2, tokens_per_s: 3 };
const start: ChatEvent = { type: "start", message: "…", run_id: "run-1", model: "m" };
const content = (chunk: string): ChatEvent => ({ type: "content", chunk });
const complete = (finish_reason = "stop"): ChatEvent => ({
  type: "complete",
  full_content: "",
  usage,
  finish_reason,
  timing,
});

/** Every chunk the events give, parsed with the protocol's strict schema. */
function encode(events: readonly ChatEvent[]): UIMessageChunk[] {
  const encoder = uiMessageStreamEncoder();
  const text = encoder.start() + events.map((event, seq) => encoder.event(event, seq)).join("") + encoder.end();
  const data = text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => block.replace(/^data: /, ""));
  expect(data.at(-1)).toBe("[DONE]");
  return data.slice(0, -1).map((json) => UIMessageChunk.parse(JSON.parse(json)));
}

describe("uiMessageStreamEncoder", () => {
  it("sends a typed answer as one data-object part, replaced by each object event, last by the checked object", () => {
    const chunks = encode([
      start,
      content('{"a": "x'),
      { type: "object", partial: { a: "x" } },
      content('y"}'),
      { type: "object", partial: { a: "xy" } },
      { ...complete(), object: { a: "xy" } } as ChatEvent,
    ]);
    const data = chunks.filter((chunk) => chunk.type === "data-object");
    expect(data).toEqual([
      { type: "data-object", id: "object", data: { a: "x" } },
      { type: "data-object", id: "object", data: { a: "xy" } },
      { type: "data-object", id: "object", data: { a: "xy" } },
    ]);
    // The text part streams on around it.
    expect(chunks.filter((chunk) => chunk.type === "text-delta").map((chunk) => chunk.delta)).toEqual([
      '{"a": "x',
      'y"}',
    ]);
  });

  it("opens the message with the run as its id, streams text in one part, and finishes with usage", () => {
    const chunks = encode([start, content("Hel"), content("lo"), complete()]);
    expect(chunks).toEqual([
      { type: "start", messageId: "run-1", messageMetadata: { run_id: "run-1", model: "m" } },
      { type: "start-step" },
      { type: "text-start", id: "text-0" },
      { type: "text-delta", id: "text-0", delta: "Hel" },
      { type: "text-delta", id: "text-0", delta: "lo" },
      { type: "text-end", id: "text-0" },
      { type: "finish-step" },
      { type: "finish", finishReason: "stop", messageMetadata: { usage, timing, finish_reason: "stop" } },
    ]);
  });

  it("streams the model's thinking as a reasoning part that ends where the text begins", () => {
    const reasoning = (chunk: string): ChatEvent => ({ type: "reasoning", chunk });
    const chunks = encode([start, reasoning("Let me "), reasoning("think."), content("Yes."), complete()]);
    expect(chunks.slice(2, 8)).toEqual([
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-delta", id: "reasoning-0", delta: "Let me " },
      { type: "reasoning-delta", id: "reasoning-0", delta: "think." },
      { type: "reasoning-end", id: "reasoning-0" },
      { type: "text-start", id: "text-1" },
      { type: "text-delta", id: "text-1", delta: "Yes." },
    ]);
  });

  it("starts a new step for the model call after tool results, and shows the tools as provider-executed", () => {
    const chunks = encode([
      start,
      content("Looking."),
      { type: "tool_call", id: "c1", name: "add", arguments: '{"a":1}' },
      { type: "tool_call", id: "c2", name: "echo", arguments: "not json" },
      { type: "tool_result", id: "c1", name: "add", result: "2", is_error: false },
      { type: "tool_result", id: "c2", name: "echo", result: "bad", is_error: true },
      content("Done."),
      complete(),
    ]);
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "tool-input-available",
      "tool-input-available",
      "tool-output-available",
      "tool-output-error",
      "finish-step",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect(chunks[5]).toEqual({
      type: "tool-input-available",
      toolCallId: "c1",
      toolName: "add",
      input: { a: 1 },
      providerExecuted: true,
      dynamic: true,
    });
    expect(chunks[6]).toMatchObject({ input: "not json" });
    expect(chunks[8]).toMatchObject({ toolCallId: "c2", errorText: "bad" });
    expect(chunks[11]).toEqual({ type: "text-start", id: "text-1" });
  });

  it("a tool round right after another is a new step too", () => {
    const chunks = encode([
      start,
      { type: "tool_call", id: "c1", name: "add", arguments: "{}" },
      { type: "tool_result", id: "c1", name: "add", result: "2", is_error: false },
      { type: "tool_call", id: "c2", name: "add", arguments: "{}" },
      { type: "tool_result", id: "c2", name: "add", result: "3", is_error: false },
      complete("max_tool_steps"),
    ]);
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "start-step",
      "tool-input-available",
      "tool-output-available",
      "finish-step",
      "start-step",
      "tool-input-available",
      "tool-output-available",
      "finish-step",
      "finish",
    ]);
    expect(chunks.at(-1)).toMatchObject({ finishReason: "tool-calls" });
  });

  it("ends a failed run with its usage and one error in words, a cancelled one with abort", () => {
    const failed = encode([
      start,
      content("half"),
      { type: "error", error: "The model server failed.", code: "upstream_error", retryable: true, usage },
    ]);
    expect(failed.slice(-3)).toEqual([
      { type: "text-end", id: "text-0" },
      { type: "message-metadata", messageMetadata: { usage } },
      { type: "error", errorText: "The model server failed." },
    ]);
    const cancelled = encode([
      start,
      { type: "error", error: "The run was cancelled.", code: "cancelled", retryable: false, usage },
    ]);
    expect(cancelled.at(-1)).toEqual({ type: "abort" });
  });

  it("maps Brook's finish reasons to the ones every ai release accepts", () => {
    const reason = (finish: string) => encode([start, complete(finish)]).at(-1);
    expect(reason("length")).toMatchObject({ finishReason: "length" });
    expect(reason("content_filter")).toMatchObject({ finishReason: "content-filter" });
    expect(reason("something_new")).toMatchObject({ finishReason: "other" });
  });

  it("escapes text as JSON", () => {
    const chunks = encode([start, content('say "hi"\n\n🌸'), complete()]);
    expect(chunks[3]).toEqual({ type: "text-delta", id: "text-0", delta: 'say "hi"\n\n🌸' });
  });
});
