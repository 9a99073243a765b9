/**
 * The `openai` SDK's Responses API against Brook's `/v1/responses`, unchanged: `create` with and
 * without `stream`, `.stream()`, the caller's function tools round-tripped, Brook's MCP tools
 * inside, reasoning, typed answers, failures before and during the stream, and refusals by name.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAIErrorBody, OpenAIResponse, OpenAIResponseStreamEvent } from "@brook/shared";
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake, parseSseText } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;
let client: OpenAI;
const prices = join(tmpdir(), `brook-responses-prices-${process.pid}.json`);
const key = "sk-brook-test";

beforeAll(async () => {
  writeFileSync(prices, JSON.stringify({ "house-model": { input_per_mtok: 1, output_per_mtok: 2 } }));
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, MODEL_PRICES: prices, BROOK_API_KEYS: key });
  client = new OpenAI({ apiKey: key, baseURL: `${brook.url}/v1`, maxRetries: 0 });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

function requestsOf(marker: string): Json[] {
  return brook.upstream.requests
    .map((request) => request.body)
    .filter((body: Json) => JSON.stringify(body.messages).includes(marker));
}

/** The semantic events of a raw `/v1/responses` stream, each checked against Brook's schema and its `event:` line. */
async function rawEvents(body: unknown): Promise<OpenAIResponseStreamEvent[]> {
  const response = await fetch(`${brook.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ ...(body as object), stream: true }),
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const blocks = parseSseText(await response.text()).filter((block) => !block.comment);
  return blocks.map((block) => {
    const data = block.lines.find((line) => line.startsWith("data: "))?.slice(6) ?? "";
    const event = OpenAIResponseStreamEvent.parse(JSON.parse(data));
    expect(block.lines[0]).toBe(`event: ${event.type}`);
    return event;
  });
}

const weather: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "The weather in a city.",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

describe("the openai SDK against /v1/responses", () => {
  it("create: one response with its message, usage and what it echoes of the request", async () => {
    const { data: response, response: http } = await client.responses
      .create({
        model: "gpt-4o-mini",
        instructions: "Be brief.",
        input: `plain ${fake({ text: "Spring wind brushes the face." })}`,
        max_output_tokens: 64,
        temperature: 0.5,
        text: { verbosity: "low" },
        metadata: { team: "search" },
      })
      .withResponse();
    // The SDK adds `output_text`; the rest is the wire's.
    const { output_text: _text, ...wire } = response;
    expect(OpenAIResponse.parse(wire)).toBeTruthy();
    expect(response.id).toMatch(/^resp_/);
    expect(http.headers.get("x-request-id")).toBe(response.id);
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model: "gpt-4o-mini",
      instructions: "Be brief.",
      max_output_tokens: 64,
      temperature: 0.5,
      metadata: { team: "search" },
      store: false,
      error: null,
    });
    expect(response.output_text).toBe("Spring wind brushes the face.");
    expect(response.output).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "Spring wind brushes the face.", annotations: [], logprobs: [] }],
      },
    ]);
    expect(response.usage?.output_tokens).toBe(5);
    expect((response.usage as Json).cost).toBeGreaterThan(0);
    const [body] = requestsOf("plain");
    expect(body.messages[0]).toEqual({ role: "system", content: "Be brief." });
    expect(body).toMatchObject({ max_tokens: 64, temperature: 0.5, verbosity: "low" });
  });

  it("streams the semantic events in OpenAI's order, numbered, with usage last", async () => {
    const stream = await client.responses.create({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: `streamed ${fake({ chunks: ["one ", "two ", "three"] })}` }],
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const deltas = events.filter((event) => event.type === "response.output_text.delta");
    expect(deltas.map((event) => event.delta).join("")).toBe("one two three");
    const added = events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
    expect(deltas.every((event) => event.item_id === added.item.id && event.output_index === 0)).toBe(true);
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.id).toBe((events[0] as OpenAI.Responses.ResponseCreatedEvent).response.id);
    expect(completed.response.status).toBe("completed");
    expect(completed.response.usage).toMatchObject({ output_tokens: 3, total_tokens: expect.any(Number) });
  });

  it(".stream(): the SDK's helper accepts every event and builds the final response", async () => {
    const runner = client.responses.stream({
      model: "gpt-4o-mini",
      input: `helper ${fake({ text: "Helped out." })}`,
    });
    const deltas: string[] = [];
    runner.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const final = await runner.finalResponse();
    expect(deltas.join("")).toBe("Helped out.");
    expect(final.output_text).toBe("Helped out.");
    expect(final.status).toBe("completed");
  });

  it("streams thinking as reasoning text, or as a summary when asked, with cached and reasoning tokens", async () => {
    const behavior = {
      reasoning: ["Let me ", "see."],
      chunks: ["Four."],
      usage: { prompt_tokens: 20, completion_tokens: 3, cached_tokens: 16, reasoning_tokens: 2 },
    };
    const events = await rawEvents({ input: `think ${fake(behavior)}`, reasoning: { effort: "low" } });
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.reasoning_text.delta",
      "response.reasoning_text.delta",
      "response.reasoning_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const completed = events.at(-1) as Extract<OpenAIResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(completed.response.output[0]).toMatchObject({ content: [{ type: "reasoning_text", text: "Let me see." }] });
    expect(completed.response.reasoning).toEqual({ effort: "low", summary: null });
    expect(completed.response.usage).toMatchObject({
      input_tokens: 20,
      input_tokens_details: { cached_tokens: 16 },
      output_tokens_details: { reasoning_tokens: 2 },
    });
    expect(requestsOf("think")[0].reasoning_effort).toBe("low");

    const runner = client.responses.stream({
      model: "gpt-4o-mini",
      input: `think summary ${fake(behavior)}`,
      reasoning: { effort: "high", summary: "auto" },
    });
    const summary: string[] = [];
    runner.on("response.reasoning_summary_text.delta", (event) => summary.push(event.delta));
    const final = await runner.finalResponse();
    expect(summary.join("")).toBe("Let me see.");
    expect(final.output[0]).toMatchObject({
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Let me see." }],
    });
    expect(final.output_text).toBe("Four.");

    const whole = await client.responses.create({ model: "gpt-4o-mini", input: `think whole ${fake(behavior)}` });
    expect(whole.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(whole.usage?.output_tokens_details.reasoning_tokens).toBe(2);
  });

  it("runs Brook's MCP tools inside one response: no tool calls reach the caller", async () => {
    const input = `mcp-inside ${fake({
      chunks: ["Let me add."],
      toolCallDeltas: toolCallDeltas([{ id: "call_add", name: "add", arguments: '{"a":2,"b":3}' }]),
    })}`;
    const response = await client.responses.create({ model: "gpt-4o-mini", input });
    expect(response.output).toHaveLength(1);
    expect(response.output_text).toBe("Let me add.\n\nTool said: 5");
    const final = await client.responses.stream({ model: "gpt-4o-mini", input }).finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(["message"]);
    expect(final.output_text).toBe("Let me add.\n\nTool said: 5");
    expect(requestsOf("mcp-inside")).toHaveLength(4);
  });

  it("hands the caller's function calls back as function_call items, and takes function_call_output", async () => {
    const ask = `weather-trip ${fake({
      toolCallDeltas: toolCallDeltas([{ id: "call_w", name: "get_weather", arguments: '{"city":"Oslo"}' }]),
      afterTools: { text: "It is sunny in Oslo." },
    })}`;
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: "user", content: ask }];
    const runner = client.responses.stream({ model: "gpt-4o-mini", input, tools: [weather] });
    const argumentDeltas: string[] = [];
    runner.on("response.function_call_arguments.delta", (event) => argumentDeltas.push(event.delta));
    const first = await runner.finalResponse();
    expect(first.status).toBe("completed");
    expect(first.output).toMatchObject([
      {
        id: "fc_call_w",
        type: "function_call",
        status: "completed",
        call_id: "call_w",
        name: "get_weather",
        arguments: '{"city":"Oslo"}',
      },
    ]);
    expect(argumentDeltas.join("")).toBe('{"city":"Oslo"}');
    const [offered] = requestsOf("weather-trip");
    expect(offered.tools.map((tool: Json) => tool.function.name)).toEqual(
      expect.arrayContaining(["add", "echo", "get_weather"]),
    );

    // The items as the SDK gave them back (with its `parsed_arguments`), as agents send them.
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), {
      type: "function_call_output",
      call_id: "call_w",
      output: "sunny, 21 °C",
    });
    const second = await client.responses.create({ model: "gpt-4o-mini", input, tools: [weather] });
    expect(second.output_text).toBe("It is sunny in Oslo.");
    expect(requestsOf("weather-trip").at(-1).messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w", content: "sunny, 21 °C" },
    ]);
  });

  it("answers a typed answer by text.format json_schema: parse() and the stream's parsed output", async () => {
    const Recipe = z.object({ title: z.string(), minutes: z.number() });
    const parsed = await client.responses.parse({
      model: "gpt-4o-mini",
      input: "responses-typed recipe",
      text: { format: zodTextFormat(Recipe, "recipe") },
    });
    expect(Recipe.parse(parsed.output_parsed)).toEqual(JSON.parse(parsed.output_text));
    expect(requestsOf("responses-typed")[0].response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "recipe", strict: true },
    });
    const streamed = await client.responses
      .stream({
        model: "gpt-4o-mini",
        input: "responses-typed-stream recipe",
        text: { format: zodTextFormat(Recipe, "recipe") },
      })
      .finalResponse();
    expect(Recipe.parse(streamed.output_parsed)).toBeTruthy();
  });

  it("ends a stream that fails mid-way with response.failed then error, which the SDK raises", async () => {
    const input = `cut ${fake({ tokens: 10, cutAfter: 3 })}`;
    const events = await rawEvents({ input });
    const types = events.map((event) => event.type);
    expect(types.slice(-2)).toEqual(["response.failed", "error"]);
    expect(types).not.toContain("response.completed");
    const failed = events.at(-2) as Extract<OpenAIResponseStreamEvent, { type: "response.failed" }>;
    expect(failed.response.status).toBe("failed");
    expect(failed.response.error).toMatchObject({ code: "upstream_incomplete", type: "server_error" });
    expect(failed.response.output).toMatchObject([
      { type: "message", status: "incomplete", content: [{ text: "tok0 tok1 tok2" }] },
    ]);
    expect(failed.response.usage).not.toBeNull();
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_incomplete" });

    const deltas: string[] = [];
    const runner = client.responses.stream({ model: "gpt-4o-mini", input });
    runner.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const failure = await runner.finalResponse().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain("ended the answer before it was finished");
    expect(deltas.join("")).toBe("tok0 tok1 tok2");

    // Without stream: the failure is the answer's status, as on chat completions.
    const whole = await client.responses.create({ model: "gpt-4o-mini", input }).catch((error: unknown) => error);
    expect(whole).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it("answers a model call refused at once with its HTTP status, streaming or not", async () => {
    const limited = await client.responses
      .create({ model: "gpt-4o-mini", input: `limited ${fake({ status: 429 })}`, stream: true })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("refuses what Brook cannot honour by name, in OpenAI's error shape", async () => {
    for (const [options, param] of [
      [{ store: true }, "store"],
      [{ previous_response_id: "resp_123" }, "previous_response_id"],
      [{ background: true }, "background"],
      [{ conversation: "conv_1" }, "conversation"],
      [{ tools: [{ type: "web_search" }] }, "tools.0.type"],
      [{ include: ["reasoning.encrypted_content"] }, "include"],
      [{ text: { verbosity: "terse" } }, "text.verbosity"],
      [{ truncation: "auto" }, "truncation"],
      [{ input: [{ type: "item_reference", id: "msg_1" }] }, "input.0.type"],
      [
        { input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1", detail: "auto" }] }] },
        "input.0.content.0.file_id",
      ],
      [{ text: { format: { type: "json_schema", name: "list", schema: { type: "array" } } } }, "text.format.schema"],
      [{ max_output_tokens: 0 }, "max_output_tokens"],
    ] as const) {
      const response = await fetch(`${brook.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "gpt-4o-mini", input: "refused", ...(options as object) }),
      });
      expect(response.status, param).toBe(400);
      const body = OpenAIErrorBody.parse(await response.json());
      expect(body.error.param, param).toMatch(new RegExp(`^${param.replaceAll(".", "\\.")}`));
      expect(body.error.message, param).toContain(param.split(".")[0]);
      expect(body.error.type).toBe("invalid_request_error");
    }
    const error = await client.responses
      .create({ model: "gpt-4o-mini", input: "refused", previous_response_id: "resp_1" })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("stateless");
    const image = await fetch(`${brook.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: "gpt-4o-mini",
        input: [{ role: "user", content: [{ type: "input_file", filename: "a.md", file_url: "https://x/a.md" }] }],
      }),
    });
    expect(OpenAIErrorBody.parse(await image.json()).error.message).toContain("Brook stores no files");
    expect(requestsOf("refused")).toEqual([]);
  });

  it("ends an answer cut by max_output_tokens as incomplete, streaming or not", async () => {
    const input = `cut-short ${fake({ text: "Once upon a", finishReason: "length" })}`;
    const whole = await client.responses.create({ model: "gpt-4o-mini", input, max_output_tokens: 3 });
    expect(whole).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(whole.output_text).toBe("Once upon a");
    const events = await rawEvents({ input, max_output_tokens: 3 });
    expect(events.at(-1)).toMatchObject({ type: "response.incomplete", response: { status: "incomplete" } });
    expect(events.map((event) => event.type)).not.toContain("response.completed");
  });

  it("stores nothing: no GET /v1/responses/{id}, and GET /v1/responses is a 405", async () => {
    const { id } = await client.responses.create({ model: "gpt-4o-mini", input: "stored?" });
    const retrieved = await client.responses.retrieve(id).catch((error: unknown) => error);
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    const wrong = await fetch(`${brook.url}/v1/responses`, { headers: { authorization: `Bearer ${key}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("aborts the model call when the caller goes away", async () => {
    const marker = `leaving-responses-${Date.now()}`;
    const controller = new AbortController();
    const stream = await client.responses.create(
      { model: "gpt-4o-mini", stream: true, input: `${marker} ${fake({ tokens: 500, delayMs: 20 })}` },
      { signal: controller.signal },
    );
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") break;
    }
    controller.abort();
    const upstream = brook.upstream.requests.find((request) => JSON.stringify(request.body.messages).includes(marker));
    expect((await upstream?.closed)?.aborted).toBe(true);
    await until(() => brook.brook.services.control.activeCount === 0);
  });
});
