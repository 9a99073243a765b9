import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type ChatEvent,
  ChatResult,
  type CompleteEvent,
  ErrorBody,
  Health,
  readChatEvents,
  ServiceInfo,
  Stats,
} from "@brook/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { contentOf, type Harness, startHarness, streamEvents } from "./support/brook-harness.js";
import { fake, terminalsOf } from "./support/sse-text.js";

const run = promisify(execFile);

async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: response.status, body: await response.json() };
}

function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return getJson(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** The complete event that ends a stream, failing the test if the stream ended otherwise. */
function completeOf(events: readonly { type: string }[]): CompleteEvent {
  const last = events.at(-1);
  expect(last?.type).toBe("complete");
  return last as CompleteEvent;
}

describe("REST API: the seed's endpoints", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({}, { text: "Spring wind brushes the face." });
  });
  afterAll(() => harness.close());

  it("GET / describes the service as JSON", async () => {
    const { status, body } = await getJson(`${harness.url}/`);
    expect(status).toBe(200);
    const info = ServiceInfo.parse(body);
    expect(info).toMatchObject({ name: "Brook", status: "running", mode: "openai", model: "gpt-4o-mini" });
    expect(Object.keys(info.endpoints)).toEqual(
      expect.arrayContaining(["POST /chat/stream", "POST /chat", "GET /health", "GET /stats", "POST /reset-stats"]),
    );
  });

  it("GET /metrics exposes the run counters and the active runs in Prometheus format; /reset-stats leaves them", async () => {
    await streamEvents(harness.url, { message: "count me" });
    const read = async () => {
      const response = await fetch(`${harness.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      return response.text();
    };
    const text = await read();
    const succeeded = /^brook_requests_total\{kind="streaming",outcome="succeeded"\} ([1-9]\d*)$/m;
    expect(text).toMatch(succeeded);
    expect(text).toMatch(/^brook_tokens_total\{model="gpt-4o-mini",direction="output"\} [1-9]\d*$/m);
    expect(text).toContain("# TYPE brook_ttft_seconds histogram");
    expect(text).toMatch(/^brook_active_runs 0$/m);
    // Counters only grow: resetting the statistics view leaves them as they were.
    await postJson(`${harness.url}/reset-stats`, {});
    expect((await read()).match(succeeded)?.[1]).toBe(text.match(succeeded)?.[1]);
  });

  it("GET /health reports streaming support, the mode and the model", async () => {
    const { status, body } = await getJson(`${harness.url}/health`);
    expect(status).toBe(200);
    expect(Health.parse(body)).toMatchObject({ status: "ok", streaming: true, mode: "openai", model: "gpt-4o-mini" });
  });

  it("streams the seed's events: start, content chunks, then complete with full_content and usage", async () => {
    const events = await streamEvents(harness.url, { message: "写一首关于春天的诗" });
    expect(events[0]).toEqual({
      type: "start",
      message: "开始生成响应...",
      run_id: expect.any(String),
      model: "gpt-4o-mini",
    });
    const chunks = events.filter((event) => event.type === "content").map((event) => event.chunk);
    expect(chunks).toEqual(["Spring", " wind", " brushes", " the", " face."]);
    expect(events.slice(1, -1).every((event) => event.type === "content")).toBe(true);
    const complete = completeOf(events);
    expect(complete.full_content).toBe(chunks.join(""));
    expect(complete.finish_reason).toBe("stop");
    expect(complete.usage).toEqual({
      input_tokens: expect.any(Number),
      output_tokens: 5,
      total_tokens: complete.usage.input_tokens + 5,
      total_cost: expect.any(Number),
      cached_input_tokens: 0,
      reasoning_tokens: 0,
      estimated: false,
      priced: true,
    });
    expect(complete.usage.input_tokens).toBeGreaterThan(0);
    expect(complete.usage.total_cost).toBeGreaterThan(0);
  });

  it("streams a custom system_prompt answer and sends that prompt to the model", async () => {
    const events = await streamEvents(harness.url, { message: "写一首诗", system_prompt: "你是一个诗人" });
    expect(completeOf(events).full_content).toBe("Spring wind brushes the face.");
    expect(harness.upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "system", content: "你是一个诗人" },
      { role: "user", content: "写一首诗" },
    ]);
  });

  it("streams Chinese text intact", async () => {
    const text = "春风拂面， 花开满园。 燕子归来！";
    const events = await streamEvents(harness.url, { message: `你好 ${fake({ text })}` });
    expect(contentOf(events)).toBe(text);
    expect(completeOf(events).full_content).toBe(text);
  });

  it("streams a long answer, one event per upstream chunk", async () => {
    const events = await streamEvents(harness.url, { message: `write a lot ${fake({ tokens: 600 })}` });
    const expected = Array.from({ length: 600 }, (_, i) => (i === 0 ? "tok0" : ` tok${i}`)).join("");
    expect(events.filter((event) => event.type === "content")).toHaveLength(600);
    const complete = completeOf(events);
    expect(complete.full_content).toBe(expected);
    expect(complete.usage.output_tokens).toBe(600);
    expect(terminalsOf(events)).toHaveLength(1);
  });

  it("accepts a JSON body sent as text/plain, as browsers send fetch string bodies", async () => {
    const response = await fetch(`${harness.url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ message: "你好" }),
    });
    expect(response.status).toBe(200);
    const events: ChatEvent[] = [];
    for await (const { event } of readChatEvents(response.body as ReadableStream<Uint8Array>)) events.push(event);
    expect(completeOf(events).full_content).toBe("Spring wind brushes the face.");
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: "user", content: "你好" });
  });

  it("POST /chat answers the whole reply as one JSON object", async () => {
    const { status, body } = await postJson(`${harness.url}/chat`, { message: "你好" });
    expect(status).toBe(200);
    expect(Object.keys(body as object).sort()).toEqual([
      "finish_reason",
      "model",
      "response",
      "run_id",
      "timing",
      "usage",
    ]);
    const result = ChatResult.parse(body);
    expect(result).toMatchObject({ response: "Spring wind brushes the face.", model: "gpt-4o-mini" });
    expect(result.finish_reason).toBe("stop");
    expect(result.usage).toMatchObject({ output_tokens: 5, estimated: false, priced: true });
    expect(result.timing.duration_ms).toBeGreaterThanOrEqual(0);
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: "user", content: "你好" });
  });
});

describe("REST API: what reaches the model", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ SYSTEM_PROMPT: "You are the Brook test assistant." });
  });
  afterAll(() => harness.close());

  const lastBody = () => harness.upstream.requests.at(-1)?.body;

  it("sends the configured default system prompt when the request names none", async () => {
    await streamEvents(harness.url, { message: "hi" });
    expect(lastBody().messages).toEqual([
      { role: "system", content: "You are the Brook test assistant." },
      { role: "user", content: "hi" },
    ]);
  });

  it("sends the message as written, leading indentation included", async () => {
    const message = "    def indented():\n        return 1\n";
    await streamEvents(harness.url, { message });
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: "user", content: message });
  });

  it("sends no system message for an explicitly empty system_prompt", async () => {
    await streamEvents(harness.url, { message: "hi", system_prompt: "" });
    expect(lastBody().messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("passes history in order, between the system prompt and the message", async () => {
    const history = [
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "Hello Ada!" },
      { role: "user", content: "I like tea." },
      { role: "assistant", content: "Noted." },
    ];
    await streamEvents(harness.url, { message: "What is my name?", history });
    expect(lastBody().messages).toEqual([
      { role: "system", content: "You are the Brook test assistant." },
      ...history,
      { role: "user", content: "What is my name?" },
    ]);
  });

  it("streams with usage requested and forwards model, temperature and max_tokens", async () => {
    await streamEvents(harness.url, { message: "hi", model: "gpt-4o", temperature: 0.3, max_tokens: 64 });
    expect(lastBody()).toMatchObject({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      max_tokens: 64,
    });
  });

  it("forwards top_p, the penalties, seed and stop, from POST /chat/stream, POST /chat and GET's query", async () => {
    const sampling = { top_p: 0.9, presence_penalty: 0.5, frequency_penalty: -1, seed: 11 };
    await streamEvents(harness.url, { message: "hi", ...sampling, stop: ["END", "###"] });
    expect(lastBody()).toMatchObject({ ...sampling, stop: ["END", "###"] });

    const answer = await fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", ...sampling, stop: "END" }),
    });
    expect(answer.status).toBe(200);
    expect(lastBody()).toMatchObject({ ...sampling, stop: ["END"] });

    const query = new URLSearchParams({ message: "hi", top_p: "0.5", seed: "3", stop: "END" });
    query.append("stop", "STOP");
    const events = await fetch(`${harness.url}/chat/stream?${query}`);
    await events.text();
    expect(lastBody()).toMatchObject({ top_p: 0.5, seed: 3, stop: ["END", "STOP"] });
  });

  it("refuses sampling options out of OpenAI's ranges, naming them", async () => {
    const before = harness.upstream.requests.length;
    const response = await fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        message: "hi",
        top_p: 2,
        frequency_penalty: -3,
        seed: 1.5,
        stop: ["a", "b", "c", "d", "e"],
      }),
    });
    expect(response.status).toBe(400);
    expect(Object.keys(ErrorBody.parse(await response.json()).fields ?? {})).toEqual([
      "top_p",
      "frequency_penalty",
      "seed",
      "stop",
    ]);
    expect(harness.upstream.requests).toHaveLength(before);
  });

  it("leaves temperature, max_tokens and the sampling options to the model when the request omits them", async () => {
    await streamEvents(harness.url, { message: "hi" });
    for (const field of [
      "temperature",
      "max_tokens",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
      "seed",
      "stop",
    ]) {
      expect(lastBody(), field).not.toHaveProperty(field);
    }
    expect(lastBody().model).toBe("gpt-4o-mini");
  });
});

describe("REST API: usage and cost", () => {
  let harness: Harness | undefined;
  let tempDir: string | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  });

  it("prices the upstream's reported usage for a known model", async () => {
    harness = await startHarness({}, { usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const complete = completeOf(await streamEvents(harness.url, { message: "hi" }));
    expect(complete.usage).toEqual({
      input_tokens: 1000,
      output_tokens: 500,
      total_tokens: 1500,
      total_cost: 0.00045,
      cached_input_tokens: 0,
      reasoning_tokens: 0,
      estimated: false,
      priced: true,
    });
  });

  it("counts tokens locally, and says so, when the upstream reports no usage", async () => {
    harness = await startHarness({}, { omitUsage: true, text: "A fairly ordinary answer of several words." });
    const complete = completeOf(await streamEvents(harness.url, { message: "Tell me something ordinary." }));
    const { usage } = complete;
    expect(usage.estimated).toBe(true);
    expect(usage.priced).toBe(true);
    // Several words of input plus a system prompt, several words of output: counted, not zero.
    expect(usage.input_tokens).toBeGreaterThan(10);
    expect(usage.input_tokens).toBeLessThan(200);
    expect(usage.output_tokens).toBeGreaterThanOrEqual(5);
    expect(usage.output_tokens).toBeLessThan(30);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.total_cost).toBeGreaterThan(0);
  });

  it("reports an unknown model as unpriced with cost 0", async () => {
    harness = await startHarness({}, { usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const complete = completeOf(await streamEvents(harness.url, { message: "hi", model: "totally-unknown-model-x" }));
    expect(complete.usage).toMatchObject({ input_tokens: 1000, output_tokens: 500, total_cost: 0, priced: false });
  });

  it("prices a custom model from the MODEL_PRICES file", async () => {
    tempDir = await mkdtemp(join(tmpdir(), "brook-prices-"));
    const file = join(tempDir, "prices.json");
    await writeFile(file, JSON.stringify({ "my-model": { input_per_mtok: 1, output_per_mtok: 2 } }));
    harness = await startHarness(
      { MODEL_PRICES: file, OPENAI_MODEL: "my-model" },
      { usage: { prompt_tokens: 1000, completion_tokens: 500 } },
    );
    const complete = completeOf(await streamEvents(harness.url, { message: "hi" }));
    expect(complete.usage).toMatchObject({ total_cost: 0.002, priced: true, estimated: false });
    expect(harness.upstream.requests.at(-1)?.body.model).toBe("my-model");
  });
});

describe("REST API: concurrent streams and /stats", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it("keeps 10 concurrent streams apart and counts them in /stats until /reset-stats", async () => {
    await postJson(`${harness.url}/reset-stats`, {});
    const texts = Array.from({ length: 10 }, (_, i) => `Stream number ${i} answers with its own words ${i}.`);
    const streams = await Promise.all(
      texts.map((text, i) => streamEvents(harness.url, { message: `request ${i} ${fake({ text, delayMs: 2 })}` })),
    );
    const completes = streams.map((events, i) => {
      expect(contentOf(events)).toBe(texts[i]);
      const complete = completeOf(events);
      expect(complete.full_content).toBe(texts[i]);
      return complete;
    });
    const runIds = new Set(streams.map((events) => (events[0]?.type === "start" ? events[0].run_id : undefined)));
    expect(runIds.size).toBe(10);

    const single = ChatResult.parse((await postJson(`${harness.url}/chat`, { message: "hi", model: "gpt-4o" })).body);

    const stats = Stats.parse((await getJson(`${harness.url}/stats`)).body);
    const sum = (pick: (complete: CompleteEvent) => number) => completes.reduce((n, c) => n + pick(c), 0);
    const streamedInput = sum((c) => c.usage.input_tokens);
    const streamedOutput = sum((c) => c.usage.output_tokens);
    expect(stats.requests).toEqual({
      total: 11,
      streaming: 10,
      non_streaming: 1,
      succeeded: 11,
      failed: 0,
      cancelled: 0,
    });
    expect(stats.active_runs).toBe(0);
    expect(stats.tokens).toEqual({
      input: streamedInput + single.usage.input_tokens,
      output: streamedOutput + single.usage.output_tokens,
      total: streamedInput + streamedOutput + single.usage.total_tokens,
      cached_input: 0,
      reasoning: 0,
    });
    expect(stats.total_cost).toBeCloseTo(sum((c) => c.usage.total_cost) + single.usage.total_cost, 9);
    expect(stats.models["gpt-4o-mini"]).toMatchObject({
      requests: 10,
      input_tokens: streamedInput,
      output_tokens: streamedOutput,
    });
    expect(stats.models["gpt-4o"]).toMatchObject({
      requests: 1,
      input_tokens: single.usage.input_tokens,
      output_tokens: single.usage.output_tokens,
    });
    expect(stats.duration_ms.count).toBe(11);

    const reset = await postJson(`${harness.url}/reset-stats`, {});
    expect(reset.status).toBe(200);
    const after = Stats.parse((await getJson(`${harness.url}/stats`)).body);
    expect(after.requests.total).toBe(0);
    expect(after.tokens).toEqual({ input: 0, output: 0, total: 0, cached_input: 0, reasoning: 0 });
    expect(after.total_cost).toBe(0);
    expect(after.models).toEqual({});
  });
});

describe("REST API: the seed's client examples", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({}, { text: "def hello():\n    return 'hi'" });
  });
  afterAll(() => harness.close());

  it("works for the Python example: iterate lines, parse those starting with 'data: '", async () => {
    const response = await fetch(`${harness.url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "写一个Python函数" }),
    });
    // requests' iter_lines(): split the byte stream into lines as they arrive.
    let printed = "";
    let totalTokens: number | undefined;
    let pending = "";
    const decoder = new TextDecoder();
    const handle = (line: string) => {
      if (!line.startsWith("data: ")) return;
      const data = JSON.parse(line.slice(6));
      if (data.type === "content") printed += data.chunk;
      else if (data.type === "complete") totalTokens = data.usage.total_tokens;
    };
    for await (const bytes of response.body as ReadableStream<Uint8Array>) {
      pending += decoder.decode(bytes, { stream: true });
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? "";
      for (const line of lines) handle(line);
    }
    handle(pending);
    expect(printed).toBe("def hello():\n    return 'hi'");
    expect(totalTokens).toBeGreaterThan(0);
  });

  it("works for the README's curl command", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "-X",
      "POST",
      `${harness.url}/chat/stream`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"message": "你好，世界！"}',
      "--no-buffer",
    ]);
    const events = stdout
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
    expect(events[0]).toMatchObject({ type: "start", message: "开始生成响应..." });
    expect(events.at(-1)).toMatchObject({ type: "complete", full_content: "def hello():\n    return 'hi'" });
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: "user", content: "你好，世界！" });
  });

  it("works for the README's curl command on POST /chat", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "-X",
      "POST",
      `${harness.url}/chat`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"message": "你好"}',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ response: "def hello():\n    return 'hi'", finish_reason: "stop" });
  });
});
