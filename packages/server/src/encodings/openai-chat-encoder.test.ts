import { type ChatEvent, OpenAIChatCompletionChunk, OpenAIErrorBody } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { MemoryRunLog } from "../storage/memory-run-log.js";
import { foldRun } from "./fold-run.js";
import { OpenAICompletionFold, openAIChunkEncoder } from "./openai-chat-encoder.js";

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
const options = { id: "chatcmpl-1", model: "m", created: 1_700_000_000, callerTools: new Set(["get_weather"]) };

function encode(events: readonly ChatEvent[], includeUsage = false) {
  const encoder = openAIChunkEncoder({ ...options, includeUsage });
  const text = encoder.start() + events.map((event, seq) => encoder.event(event, seq)).join("") + encoder.end();
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => block.replace(/^data: /, ""));
}

const chunksOf = (data: string[]) =>
  data.filter((text) => text !== "[DONE]").map((text) => OpenAIChatCompletionChunk.parse(JSON.parse(text)));

describe("openAIChunkEncoder", () => {
  it("streams OpenAI's chunks: role first, text, one finish_reason, then [DONE]", () => {
    const data = encode([start, content("Hel"), content("lo"), complete()]);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = chunksOf(data);
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: "Hel" }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: "lo" }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: "stop" },
    ]);
    expect(
      chunks.every(
        (chunk) => chunk.id === "chatcmpl-1" && chunk.created === 1_700_000_000 && chunk.usage === undefined,
      ),
    ).toBe(true);
  });

  it("with include_usage: usage null on every chunk, then a usage chunk without choices", () => {
    const chunks = chunksOf(encode([start, content("x"), complete()], true));
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, cost: 0.5 },
    });
  });

  it("keeps Brook's own tools inside, a paragraph apart, and shows the caller's tool calls, which end the answer", () => {
    const chunks = chunksOf(
      encode([
        start,
        content("Adding."),
        { type: "tool_call", id: "c1", name: "add", arguments: "{}" },
        { type: "tool_result", id: "c1", name: "add", result: "2", is_error: false },
        content("It is 2."),
        { type: "tool_call", id: "c2", name: "get_weather", arguments: '{"city":"Oslo"}' },
        complete("tool_calls"),
      ]),
    );
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "Adding." },
      { content: "\n\nIt is 2." },
      {
        tool_calls: [
          { index: 0, id: "c2", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      {},
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("ends a run stopped at MAX_TOOL_STEPS with length: no tool calls the caller would have to run", () => {
    expect(chunksOf(encode([start, complete("max_tool_steps")])).at(-1)?.choices[0]?.finish_reason).toBe("length");
  });

  it("reports a failure as one error event in OpenAI's shape, and sends no [DONE]", () => {
    const data = encode([
      start,
      { type: "error", error: "The model server failed.", code: "upstream_error", retryable: true, usage },
    ]);
    expect(data).not.toContain("[DONE]");
    expect(OpenAIErrorBody.parse(JSON.parse(data.at(-1) ?? ""))).toEqual({
      error: { message: "The model server failed.", type: "server_error", param: null, code: "upstream_error" },
    });
  });
});

describe("OpenAICompletionFold", () => {
  function runWith(events: ChatEvent[]) {
    const log = new MemoryRunLog("run-1", { bufferEvents: 64, resumable: false });
    log.append(events);
    return { id: "run-1", model: "m", log };
  }

  it("folds a run into one chat completion, with the caller's tool calls and null content beside them", async () => {
    const completion = await foldRun(
      runWith([start, { type: "tool_call", id: "c2", name: "get_weather", arguments: "{}" }, complete("tool_calls")])
        .log,
      new OpenAICompletionFold(options),
      new AbortController().signal,
    );
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        tool_calls: [{ id: "c2", type: "function", function: { name: "get_weather", arguments: "{}" } }],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
      cost: 0.5,
    });
  });

  it("carries the model's thinking as reasoning_content, streamed and folded", async () => {
    const thinking: ChatEvent = { type: "reasoning", chunk: "Hmm." };
    const chunks = chunksOf(encode([start, thinking, content("Yes."), complete()], false));
    expect(chunks[1]?.choices[0]?.delta).toEqual({ reasoning_content: "Hmm." });
    expect(chunks[2]?.choices[0]?.delta).toEqual({ content: "Yes." });
    const completion = await foldRun(
      runWith([start, thinking, content("Yes."), complete()]).log,
      new OpenAICompletionFold(options),
      new AbortController().signal,
    );
    expect(completion.choices[0]?.message).toMatchObject({ content: "Yes.", reasoning_content: "Hmm." });
  });

  it("throws a failed run's error, with its usage", async () => {
    const failure = await foldRun(
      runWith([start, { type: "error", error: "Too many.", code: "upstream_rate_limited", retryable: true, usage }])
        .log,
      new OpenAICompletionFold(options),
      new AbortController().signal,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrookError);
    expect(failure).toMatchObject({ code: "upstream_rate_limited", message: "Too many.", usage });
  });
});
