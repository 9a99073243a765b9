import { describe, expect, it } from "vitest";
import { applyEvent, endThinking } from "./apply-event.ts";
import type { Message } from "./conversation.ts";

const usage = {
  input_tokens: 10,
  output_tokens: 5,
  total_tokens: 15,
  total_cost: 0.0001,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

function answer(): Message {
  return { id: "a", role: "assistant", content: "", createdAt: 0, status: "streaming" };
}

describe("applyEvent", () => {
  it("names the model that answered: the one start named, or the fallback complete names", () => {
    const timing = { ttft_ms: 1, duration_ms: 2, tokens_per_s: 3 };
    const started = applyEvent(answer(), { type: "start", message: "…", run_id: "r", model: "main" });
    expect(started.model).toBe("main");
    const complete = { type: "complete", full_content: "hi", usage, finish_reason: "stop", timing } as const;
    expect(applyEvent(started, complete).model).toBe("main");
    expect(applyEvent(started, { ...complete, model: "backup" }).model).toBe("backup");
  });

  it("keeps a server's questions with their call, closed by the call's result", () => {
    const called = applyEvent(answer(), { type: "tool_call", id: "c1", name: "ask", arguments: "{}" });
    const schema = { type: "object", properties: { name: { type: "string" } } };
    const asked = applyEvent(called, {
      type: "input_request",
      input_id: "i1",
      id: "c1",
      name: "ask",
      server: "mcp",
      message: "Who?",
      requested_schema: schema,
    });
    expect(asked.tools?.[0]?.inputs).toEqual([{ id: "i1", server: "mcp", message: "Who?", schema }]);
    const done = applyEvent(asked, { type: "tool_result", id: "c1", name: "ask", result: "decline", is_error: false });
    expect(done.tools?.[0]?.inputs?.[0]?.answer).toBe("closed");
  });

  it("builds one tool card per call, completed by its result", () => {
    let message = answer();
    message = applyEvent(message, { type: "tool_call", id: "c1", name: "echo", arguments: '{"message":"hi"}' });
    message = applyEvent(message, { type: "tool_call", id: "c2", name: "get-sum", arguments: '{"a":1,"b":2}' });
    expect(message.tools).toEqual([
      { id: "c1", name: "echo", arguments: '{"message":"hi"}' },
      { id: "c2", name: "get-sum", arguments: '{"a":1,"b":2}' },
    ]);
    message = applyEvent(message, { type: "tool_result", id: "c2", name: "get-sum", result: "boom", is_error: true });
    message = applyEvent(message, { type: "tool_result", id: "c1", name: "echo", result: "Echo: hi", is_error: false });
    expect(message.tools).toEqual([
      { id: "c1", name: "echo", arguments: '{"message":"hi"}', result: "Echo: hi", isError: false },
      { id: "c2", name: "get-sum", arguments: '{"a":1,"b":2}', result: "boom", isError: true },
    ]);
  });

  it("shows a running tool's last progress, then keeps its structured content, resource links and images", () => {
    let message = applyEvent(answer(), { type: "tool_call", id: "c1", name: "render", arguments: "{}" });
    message = applyEvent(message, { type: "tool_progress", id: "c1", name: "render", progress: 1, total: 4 });
    message = applyEvent(message, {
      type: "tool_progress",
      id: "c1",
      name: "render",
      progress: 3,
      total: 4,
      message: "Drawing",
    });
    expect(message.tools?.[0]?.progress).toEqual({ progress: 3, total: 4, message: "Drawing" });
    message = applyEvent(message, {
      type: "tool_result",
      id: "c1",
      name: "render",
      result: "[image image/png, 3 B: shown to the user]",
      is_error: false,
      structured_content: { width: 2 },
      resources: [{ uri: "file:///out.png", name: "out" }],
      images: [{ mime_type: "image/png", data: "AAAA" }],
    });
    expect(message.tools?.[0]).toMatchObject({
      structured: { width: 2 },
      resources: [{ uri: "file:///out.png", name: "out" }],
      images: [{ mime_type: "image/png", data: "AAAA" }],
    });
  });

  it("keeps a result whose call it never saw", () => {
    const message = applyEvent(answer(), { type: "tool_result", id: "x", name: "echo", result: "ok", is_error: false });
    expect(message.tools).toEqual([{ id: "x", name: "echo", arguments: "", result: "ok", isError: false }]);
  });

  it("ends with the complete event's text, usage and timing", () => {
    const timing = { ttft_ms: 120, duration_ms: 900, tokens_per_s: 12.5 };
    const message = applyEvent(
      { ...answer(), content: "Hel" },
      { type: "complete", full_content: "Hello", usage, finish_reason: "stop", timing },
    );
    expect(message).toMatchObject({ content: "Hello", status: "done", usage, timing });
  });

  it("keeps a typed answer's latest parse, then the checked object, beside its raw text", () => {
    let message = applyEvent(answer(), { type: "content", chunk: '{"city":"Par' });
    message = applyEvent(message, { type: "object", partial: { city: "Par" } });
    message = applyEvent(message, { type: "content", chunk: 'is","days":[1' });
    message = applyEvent(message, { type: "object", partial: { city: "Paris", days: [1] } });
    expect(message).toMatchObject({ content: '{"city":"Paris","days":[1', object: { city: "Paris", days: [1] } });
    const timing = { ttft_ms: 100, duration_ms: 400, tokens_per_s: 20 };
    const done = applyEvent(message, {
      type: "complete",
      full_content: '{"city":"Paris","days":[1,2]}',
      object: { city: "Paris", days: [1, 2] },
      usage,
      finish_reason: "stop",
      timing,
    });
    expect(done).toMatchObject({ status: "done", object: { city: "Paris", days: [1, 2] } });
  });

  it("keeps the model's thinking apart from the answer, and how long it lasted", () => {
    let message = applyEvent(answer(), { type: "reasoning", chunk: "Let me " }, 1_000);
    message = applyEvent(message, { type: "reasoning", chunk: "think." }, 1_400);
    expect(message).toMatchObject({ content: "", reasoning: "Let me think.", reasoningStartedAt: 1_000 });
    expect(message.reasoningMs).toBeUndefined();
    // The answer begins: the thinking is over.
    message = applyEvent(message, { type: "content", chunk: "Hi" }, 3_500);
    message = applyEvent(message, { type: "content", chunk: "!" }, 3_600);
    expect(message).toMatchObject({ content: "Hi!", reasoning: "Let me think.", reasoningMs: 2_500 });
    // The server's figure wins in the end.
    const timing = { ttft_ms: 2_600, duration_ms: 2_700, tokens_per_s: 3, reasoning_ms: 2_450 };
    const done = applyEvent(message, {
      type: "complete",
      full_content: "Hi!",
      full_reasoning: "Let me think.",
      usage: { ...usage, reasoning_tokens: 4 },
      finish_reason: "stop",
      timing,
    });
    expect(done).toMatchObject({ status: "done", reasoning: "Let me think.", reasoningMs: 2_450, timing });
  });

  it("ends the thinking of a run stopped before it answered, and adds nothing for a model that did not think", () => {
    const thinking = applyEvent(answer(), { type: "reasoning", chunk: "Hmm" }, 100);
    const stopped = applyEvent(
      thinking,
      { type: "error", error: "The run was cancelled.", code: "cancelled", retryable: false, usage },
      900,
    );
    expect(stopped).toMatchObject({ status: "stopped", reasoning: "Hmm", reasoningMs: 800 });
    // Stopped from this side, the run sends no terminal event: the runner ends the thinking.
    expect(endThinking({ ...thinking, status: "stopped" }, 1_100)).toMatchObject({ reasoningMs: 1_000 });
    expect(endThinking(stopped, 5_000)).toBe(stopped);
    const plain = applyEvent(answer(), { type: "content", chunk: "Hi" });
    expect(plain).not.toHaveProperty("reasoning");
    expect(plain).not.toHaveProperty("reasoningMs");
  });

  it("marks a cancelled run as stopped and any other error as an error, keeping the partial text", () => {
    const partial = { ...answer(), content: "Partial" };
    const cancelled = applyEvent(partial, {
      type: "error",
      error: "The run was cancelled.",
      code: "cancelled",
      retryable: false,
      usage,
    });
    expect(cancelled).toMatchObject({ status: "stopped", content: "Partial" });
    const failed = applyEvent(partial, {
      type: "error",
      error: "The model server failed.",
      code: "upstream_error",
      retryable: true,
      usage,
    });
    expect(failed).toMatchObject({
      status: "error",
      content: "Partial",
      error: { message: "The model server failed.", code: "upstream_error", retryable: true },
    });
  });
});
