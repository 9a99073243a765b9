import { type ChatEvent, OpenAIResponse, OpenAIResponseStreamEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { OpenAIResponseFold, type OpenAIResponseOptions, openAIResponseEncoder } from "./openai-responses-encoder.js";

const usage = {
  input_tokens: 3,
  output_tokens: 4,
  total_tokens: 7,
  total_cost: 0.5,
  cached_input_tokens: 2,
  reasoning_tokens: 1,
  estimated: false,
  priced: true,
};
const timing = { ttft_ms: 1, duration_ms: 2, tokens_per_s: 3 };
const start: ChatEvent = { type: "start", message: "…", run_id: "run-1", model: "m" };
const content = (chunk: string): ChatEvent => ({ type: "content", chunk });
const reasoning = (chunk: string): ChatEvent => ({ type: "reasoning", chunk });
const call = (id: string, name: string): ChatEvent => ({ type: "tool_call", id, name, arguments: '{"a":1}' });
const result = (id: string, name: string): ChatEvent => ({
  type: "tool_result",
  id,
  name,
  result: "5",
  is_error: false,
});
const complete = (finish_reason = "stop"): ChatEvent => ({
  type: "complete",
  full_content: "",
  usage,
  finish_reason,
  timing,
});
const failure: ChatEvent = {
  type: "error",
  error: "The model server went away.",
  code: "upstream_error",
  retryable: true,
  usage,
};

const options: OpenAIResponseOptions = {
  id: "resp_1",
  model: "m",
  createdAt: 1_700_000_000,
  callerTools: new Set(["get_weather"]),
  settings: {
    instructions: null,
    max_output_tokens: null,
    parallel_tool_calls: true,
    reasoning: { effort: null, summary: null },
    temperature: null,
    text: { format: { type: "text" }, verbosity: null },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    metadata: {},
    user: null,
  },
  reasoningAsSummary: false,
};

/** The events a stream sends, each checked: its `event:` line names its type, its data fits Brook's schema. */
function encode(events: readonly ChatEvent[], overrides: Partial<OpenAIResponseOptions> = {}) {
  const encoder = openAIResponseEncoder({ ...options, ...overrides });
  const text = encoder.start() + events.map((event, seq) => encoder.event(event, seq)).join("") + encoder.end();
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => {
      const [name, data] = block.split("\n") as [string, string];
      const event = OpenAIResponseStreamEvent.parse(JSON.parse(data.replace(/^data: /, "")));
      expect(name).toBe(`event: ${event.type}`);
      return event;
    });
}

describe("openAIResponseEncoder", () => {
  it("numbers every event from 0 and wraps text in one message item", () => {
    const events = encode([start, content("Hel"), content("lo"), complete()]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[6]).toMatchObject({ text: "Hello", item_id: "msg_1_0", output_index: 0, content_index: 0 });
    const completed = events.at(-1) as Extract<OpenAIResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response.output).toEqual([
      {
        id: "msg_1_0",
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }],
      },
    ]);
    expect(completed.response.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 2 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 1 },
      total_tokens: 7,
      cost: 0.5,
    });
  });

  it("keeps Brook's tool calls inside one message, paragraphs apart, and shows the caller's as function_call items", () => {
    const events = encode([
      start,
      content("Adding."),
      call("c1", "add"),
      result("c1", "add"),
      content("It is 5."),
      call("c2", "get_weather"),
      complete("tool_calls"),
    ]);
    const completed = events.at(-1) as Extract<OpenAIResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response.status).toBe("completed");
    expect(completed.response.output).toMatchObject([
      { type: "message", content: [{ text: "Adding.\n\nIt is 5." }] },
      { id: "fc_c2", type: "function_call", call_id: "c2", name: "get_weather", arguments: '{"a":1}' },
    ]);
    const calls = events.filter((event) => "output_index" in event && event.output_index === 1);
    expect(calls.map((event) => event.type)).toEqual([
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
    ]);
  });

  it("opens a new item each time the model turns from thinking to text, as summary text when asked", () => {
    const events = encode([start, reasoning("Hm."), content("A"), reasoning("Again."), content("B"), complete()], {
      reasoningAsSummary: true,
    });
    const completed = events.at(-1) as Extract<OpenAIResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response.output).toMatchObject([
      { type: "reasoning", summary: [{ type: "summary_text", text: "Hm." }] },
      { type: "message", content: [{ text: "A" }] },
      { type: "reasoning", summary: [{ type: "summary_text", text: "Again." }] },
      { type: "message", content: [{ text: "B" }] },
    ]);
    expect(events.filter((event) => event.type === "response.reasoning_summary_text.delta")).toHaveLength(2);
  });

  it("ends a run cut by a limit as response.incomplete", () => {
    const events = encode([start, content("A"), complete("length")]);
    expect(events.at(-1)).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
    expect(events.at(-2)).toMatchObject({ type: "response.output_item.done", item: { status: "incomplete" } });
  });

  it("ends a failed run with response.failed, what was written, and an error event", () => {
    const events = encode([start, content("Half"), failure]);
    expect(events.slice(-2)).toMatchObject([
      {
        type: "response.failed",
        response: {
          status: "failed",
          error: { code: "upstream_error", message: "The model server went away.", type: "server_error" },
          output: [{ type: "message", status: "incomplete", content: [{ text: "Half" }] }],
          usage: { total_tokens: 7 },
        },
      },
      { type: "error", code: "upstream_error", message: "The model server went away.", param: null },
    ]);
    expect(events.map((event) => event.type)).not.toContain("response.output_item.done");
  });

  it("ends with response.failed when reading the run fails", () => {
    const encoder = openAIResponseEncoder(options);
    const text = encoder.start() + encoder.event(content("A"), 0) + (encoder.failure?.(new Error("lost")) ?? "");
    expect(text).toContain("event: response.failed\n");
    expect(text.trimEnd().split("\n\n").at(-1)).toMatch(/^event: error\ndata: .*"code":"internal"/);
  });
});

describe("OpenAIResponseFold", () => {
  it("folds a run into one response object", () => {
    const fold = new OpenAIResponseFold(options);
    for (const event of [start, reasoning("Hm."), content("Hi"), complete()]) fold.event(event);
    const response = OpenAIResponse.parse(fold.result());
    expect(response).toMatchObject({ id: "resp_1", status: "completed", model: "m", store: false });
    expect(response.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
  });

  it("throws a failed run's error, with its usage", () => {
    const fold = new OpenAIResponseFold(options);
    for (const event of [start, content("Hi"), failure]) fold.event(event);
    expect(() => fold.result()).toThrow(BrookError);
    try {
      fold.result();
    } catch (error) {
      expect((error as BrookError).usage?.total_tokens).toBe(7);
    }
  });
});
