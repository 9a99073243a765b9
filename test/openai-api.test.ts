/**
 * The `openai` SDK against Brook's `/v1`, unchanged: `create`, `.stream()`, the caller's own
 * tools, Brook's MCP tools inside one answer, and the SDK's typed errors.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAIChatCompletion, OpenAIChatCompletionChunk, OpenAIErrorBody, Stats } from "@brook/shared";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake, sseData } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;
let client: OpenAI;
const prices = join(tmpdir(), `brook-openai-prices-${process.pid}.json`);

beforeAll(async () => {
  writeFileSync(prices, JSON.stringify({ "house-model": { input_per_mtok: 1, output_per_mtok: 2 } }));
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, MODEL_PRICES: prices, BROOK_API_KEYS: "sk-brook-test" });
  client = new OpenAI({ apiKey: "sk-brook-test", baseURL: `${brook.url}/v1`, maxRetries: 0 });
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

const weather: OpenAI.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("the openai SDK against /v1/chat/completions", () => {
  it("create: one answer with usage, cost and OpenAI's envelope", async () => {
    const { data: completion, response } = await client.chat.completions
      .create({
        model: "gpt-4o-mini",
        messages: [
          { role: "developer", content: "Be brief." },
          { role: "user", content: `plain ${fake({ text: "Spring wind brushes the face." })}` },
        ],
      })
      .withResponse();
    expect(OpenAIChatCompletion.parse(completion)).toBeTruthy();
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(response.headers.get("x-request-id")).toBe(completion.id);
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: "Spring wind brushes the face.", refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ]);
    expect(completion.usage?.completion_tokens).toBe(5);
    expect((completion.usage as Json).cost).toBeGreaterThan(0);
    // The caller's system message replaced Brook's default.
    const [body] = requestsOf("plain");
    expect(body.messages[0]).toEqual({ role: "system", content: "Be brief." });
  });

  it("create with stream: OpenAI's chunks, role first, usage last, then [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: `streamed ${fake({ chunks: ["one ", "two ", "three"] })}` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) OpenAIChatCompletionChunk.parse(chunk);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("one two three");
    const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason != null);
    expect(finishes.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual(["stop"]);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ completion_tokens: 3, total_tokens: expect.any(Number) });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it("the wire: text/event-stream, data lines only, [DONE] last, no usage without include_usage", async () => {
    const response = await fetch(`${brook.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-brook-test" },
      body: JSON.stringify({ messages: [{ role: "user", content: [{ type: "text", text: "wire" }] }], stream: true }),
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((text) => OpenAIChatCompletionChunk.parse(JSON.parse(text)));
    expect(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1)).toBe(true);
  });

  it(".stream(): the SDK's helper accepts the chunks and builds the final completion", async () => {
    const runner = client.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: `helper ${fake({ text: "Helped out." })}` }],
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    runner.on("content.delta", ({ delta }) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(deltas.join("")).toBe("Helped out.");
    expect(final.choices[0]?.message.content).toBe("Helped out.");
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(final.usage?.completion_tokens).toBe(2);
  });

  it("passes the model's thinking on as reasoning_content, and its cached and reasoning tokens in usage", async () => {
    const behavior = {
      reasoning: ["Let me ", "see."],
      chunks: ["Four."],
      usage: { prompt_tokens: 20, completion_tokens: 3, cached_tokens: 16, reasoning_tokens: 2 },
    };
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: `think ${fake(behavior)}` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const delta = (chunk: OpenAI.ChatCompletionChunk) => chunk.choices[0]?.delta as { reasoning_content?: string };
    expect(chunks.map((chunk) => delta(chunk)?.reasoning_content ?? "").join("")).toBe("Let me see.");
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("Four.");
    expect(chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: 20,
      prompt_tokens_details: { cached_tokens: 16 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
    const whole = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: `think whole ${fake(behavior)}` }],
    });
    expect(whole.choices[0]?.message).toMatchObject({ content: "Four.", reasoning_content: "Let me see." });
  });

  it("runs Brook's MCP tools inside one answer: no tool_calls reach the caller", async () => {
    const ask = `mcp-inside ${fake({
      chunks: ["Let me add."],
      toolCallDeltas: toolCallDeltas([{ id: "call_add", name: "add", arguments: '{"a":2,"b":3}' }]),
    })}`;
    const completion = await client.chat.completions.create({
      messages: [{ role: "user", content: ask }],
      model: "gpt-4o-mini",
    });
    expect(completion.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Let me add.\n\nTool said: 5",
      refusal: null,
    });
    expect(completion.choices[0]?.finish_reason).toBe("stop");

    const runner = client.chat.completions.stream({ messages: [{ role: "user", content: ask }], model: "gpt-4o-mini" });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Let me add.\n\nTool said: 5");
    expect(final.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(final.choices[0]?.finish_reason).toBe("stop");
    // Two model calls behind each answer; usage covers both.
    expect(requestsOf("mcp-inside")).toHaveLength(4);
  });

  it("hands the caller's own tool calls back, and takes their results in the next request", async () => {
    const ask = `weather-trip ${fake({
      toolCallDeltas: toolCallDeltas([{ id: "call_w", name: "get_weather", arguments: '{"city":"Oslo"}' }]),
      afterTools: { text: "It is sunny in Oslo." },
    })}`;
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: ask }];
    const runner = client.chat.completions.stream({ model: "gpt-4o-mini", messages, tools: [weather] });
    const first = await runner.finalChatCompletion();
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.tool_calls).toEqual([
      { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    ]);
    // The model was offered Brook's tools and the caller's.
    const [offered] = requestsOf("weather-trip");
    const names = offered.tools.map((tool: Json) => tool.function.name);
    expect(names).toEqual(expect.arrayContaining(["add", "echo", "get_weather"]));

    messages.push(choice?.message as OpenAI.ChatCompletionMessageParam, {
      role: "tool",
      tool_call_id: "call_w",
      content: "sunny, 21 °C",
    });
    const second = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools: [weather] });
    expect(second.choices[0]?.message.content).toBe("It is sunny in Oslo.");
    const followUp = requestsOf("weather-trip").at(-1);
    expect(followUp.messages.slice(-2)).toEqual([
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

  it("passes tool_choice, reasoning_effort, max_completion_tokens and the sampling options on", async () => {
    await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "options-pass" }],
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      reasoning_effort: "low",
      max_completion_tokens: 64,
      temperature: 0.5,
      top_p: 0.9,
      presence_penalty: 0.25,
      frequency_penalty: -0.5,
      seed: 7,
      stop: ["END", "\n\n"],
      // Bookkeeping, accepted and not passed on.
      n: 1,
      user: "user-1",
      metadata: { team: "search" },
      store: false,
      service_tier: "auto",
      logprobs: false,
    });
    const [body] = requestsOf("options-pass");
    expect(body).toMatchObject({
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      reasoning_effort: "low",
      max_tokens: 64,
      temperature: 0.5,
      top_p: 0.9,
      presence_penalty: 0.25,
      frequency_penalty: -0.5,
      seed: 7,
      stop: ["END", "\n\n"],
    });
    for (const field of ["n", "user", "metadata", "store", "service_tier", "logprobs"]) {
      expect(body, field).not.toHaveProperty(field);
    }

    // One stop sequence as a string; parallel_tool_calls goes with the tools offered (here Brook's MCP tools).
    await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "stop-string" }],
      stop: "END",
      parallel_tool_calls: true,
    });
    const [single] = requestsOf("stop-string");
    expect(single.stop).toEqual(["END"]);
    expect(single.tools.map((tool: Json) => tool.function.name)).toContain("echo");
    expect(single.parallel_tool_calls).toBe(true);
  });

  it("refuses what Brook cannot honour by name, as the SDK's BadRequestError", async () => {
    for (const [options, param] of [
      [{ n: 2 }, "n"],
      [{ logprobs: true, top_logprobs: 3 }, "logprobs"],
      [{ modalities: ["text", "audio"], audio: { voice: "alloy", format: "wav" } }, "modalities"],
      [{ top_p: 1.5 }, "top_p"],
      [{ stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [
        { response_format: { type: "json_schema", json_schema: { name: "list", schema: { type: "array" } } } },
        "response_format.json_schema.schema",
      ],
      [
        {
          messages: [
            { role: "user", content: [{ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }] },
          ],
        },
        "messages.0.content",
      ],
    ] as const) {
      const error = await client.chat.completions
        .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "refused" }], ...(options as object) })
        .catch((thrown: unknown) => thrown);
      expect(error, param).toBeInstanceOf(OpenAI.BadRequestError);
      const body = OpenAIErrorBody.parse({ error: (error as InstanceType<typeof OpenAI.BadRequestError>).error });
      expect(body.error.param, param).toMatch(new RegExp(`^${param.replaceAll(".", "\\.")}`));
      expect(body.error.message, param).toContain(param.split(".")[0]);
      expect(body.error.type).toBe("invalid_request_error");
    }
    expect(requestsOf("refused")).toEqual([]);
  });

  it("maps failures to the SDK's typed errors, with x-should-retry where the status misleads", async () => {
    const noKey = new OpenAI({ apiKey: "wrong", baseURL: `${brook.url}/v1`, maxRetries: 0 });
    const unauthorized = await noKey.models.list().catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unauthorized as InstanceType<typeof OpenAI.APIError>).code).toBe("invalid_api_key");

    const limited = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `limited ${fake({ status: 429 })}` }] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);

    // Refused before any token: the stream answers with the HTTP status too.
    const refusedStream = await client.chat.completions
      .create({
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: `bad-key ${fake({ status: 401 })}` }],
      })
      .catch((error: unknown) => error);
    expect(refusedStream).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = refusedStream as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(502);
    expect(apiError.code).toBe("upstream_auth");
    // A bad upstream key does not get better by retrying.
    expect(apiError.headers?.get("x-should-retry")).toBe("false");
  });

  it("reports a failure after the answer started as an error event, and no [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: `cut ${fake({ tokens: 10, cutAfter: 3 })}` }],
    });
    const texts: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((error: unknown) => error);
    expect(texts.join("")).toBe("tok0 tok1 tok2");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain("ended the answer before it was finished");

    const raw = await fetch(`${brook.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-brook-test" },
      body: JSON.stringify({
        stream: true,
        messages: [{ role: "user", content: `cut ${fake({ tokens: 10, cutAfter: 3 })}` }],
      }),
    });
    const data = sseData(await raw.text());
    expect(data).not.toContain("[DONE]");
    expect(OpenAIErrorBody.parse(JSON.parse(data.at(-1) ?? ""))).toMatchObject({
      error: { code: "upstream_incomplete", type: "server_error" },
    });
  });

  it("aborts the model call when the caller goes away", async () => {
    const marker = `leaving-${Date.now()}`;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: `${marker} ${fake({ tokens: 500, delayMs: 20 })}` }],
      },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    controller.abort();
    const upstream = brook.upstream.requests.find((request) => JSON.stringify(request.body.messages).includes(marker));
    expect((await upstream?.closed)?.aborted).toBe(true);
    await until(() => brook.brook.services.control.activeCount === 0);
  });

  it("counts its runs in the statistics like every other", async () => {
    const before = Stats.parse(
      await (await fetch(`${brook.url}/stats`, { headers: { authorization: "Bearer sk-brook-test" } })).json(),
    );
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "count" }] });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "count" }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // read to the end
    }
    const after = Stats.parse(
      await (await fetch(`${brook.url}/stats`, { headers: { authorization: "Bearer sk-brook-test" } })).json(),
    );
    expect(after.requests.non_streaming - before.requests.non_streaming).toBe(1);
    expect(after.requests.streaming - before.requests.streaming).toBe(1);
  });
});

describe("/v1/models and the rest of /v1", () => {
  it("lists the default model and the priced ones", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(["gpt-4o-mini", "house-model"]);
    expect(models[0]).toMatchObject({ object: "model", owned_by: "brook" });
    expect((await client.models.retrieve("house-model")).id).toBe("house-model");
    await expect(client.models.retrieve("nothing-here")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("answers unknown paths and wrong methods in OpenAI's shape", async () => {
    const headers = { authorization: "Bearer sk-brook-test" };
    const missing = await fetch(`${brook.url}/v1/embeddings`, { method: "POST", headers });
    expect(missing.status).toBe(404);
    expect(OpenAIErrorBody.parse(await missing.json()).error.type).toBe("not_found_error");
    const wrong = await fetch(`${brook.url}/v1/chat/completions`, { headers });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(OpenAIErrorBody.parse(await wrong.json()).error.code).toBe("method_not_allowed");
  });
});
