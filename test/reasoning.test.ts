/**
 * Reasoning models (DeepSeek-R1, Qwen3, gpt-oss… behind vLLM, llama.cpp, Ollama, OpenRouter):
 * their thinking streams as `reasoning` events on every surface, keeps long thinking alive
 * through the timeouts, never goes back to the model, and their usage details (cached input,
 * reasoning tokens) are counted, priced and reported.
 */
import { createBrookClient } from "@brook/client";
import { type ChatEvent, ChatResult, type CompleteEvent, ErrorBody, readChatEvents, Stats } from "@brook/shared";
import { describe, expect, it, vi } from "vitest";
import { runBrookCli } from "./support/brook-cli.js";
import { contentOf, type FakeBehavior, startDemoBrook, streamEvents } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake, postStreamRaw } from "./support/sse-text.js";
import { readTracked, type TrackedEvent } from "./support/trpc-reader.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

const thinking = ["The user ", "greets me. ", "A greeting back ", "will do."];
const thinker: FakeBehavior = { reasoning: thinking, text: "Hello there!" };

function reasoningOf(events: readonly ChatEvent[]): string {
  return events.map((event) => (event.type === "reasoning" ? event.chunk : "")).join("");
}

function completeOf(events: readonly ChatEvent[]): CompleteEvent {
  const last = events.at(-1);
  expect(last?.type).toBe("complete");
  return last as CompleteEvent;
}

/** The event types in order, with runs of the same type folded into one. */
function shapeOf(events: readonly ChatEvent[]): string[] {
  const types: string[] = [];
  for (const event of events) if (types.at(-1) !== event.type) types.push(event.type);
  return types;
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function getEvents(url: string): Promise<ChatEvent[]> {
  const response = await fetch(url, { headers: { accept: "text/event-stream" } });
  expect(response.status).toBe(200);
  const events: ChatEvent[] = [];
  for await (const { event } of readChatEvents(response.body as ReadableStream<Uint8Array>)) events.push(event);
  return events;
}

describe("reasoning on the REST surface", () => {
  it("streams the model's thinking as reasoning events before the answer, and folds it into complete (POST /chat/stream)", async () => {
    const { url } = await harness({}, thinker);
    const raw = await postStreamRaw(url, { message: "hi" });
    // The wire, as curl sees it: one event per piece, with its id.
    expect(raw.text).toMatch(/id: [\w-]+:1\ndata: \{"type":"reasoning","chunk":"The user "\}\n\n/);
    expect(shapeOf(raw.events)).toEqual(["start", "reasoning", "content", "complete"]);
    expect(raw.events.filter((event) => event.type === "reasoning")).toHaveLength(thinking.length);
    expect(reasoningOf(raw.events)).toBe(thinking.join(""));
    expect(contentOf(raw.events)).toBe("Hello there!");
    const complete = completeOf(raw.events);
    expect(complete).toMatchObject({ full_content: "Hello there!", full_reasoning: thinking.join("") });
    expect(complete.timing.ttft_ms).not.toBeNull();
    expect(complete.timing.reasoning_ms).toEqual(expect.any(Number));
    // The fake reports each reasoning chunk as a reasoning token, each chunk as an output token.
    expect(complete.usage).toMatchObject({ output_tokens: thinking.length + 2, reasoning_tokens: thinking.length });

    // The shared reader (and so the typed client) parses the same events.
    const parsed = await streamEvents(url, { message: "hi" });
    expect(parsed.map((event) => event.type)).toEqual(raw.events.map((event) => event.type));
  });

  it.each<[string, NonNullable<FakeBehavior["reasoningFields"]>]>([
    ["DeepSeek and llama.cpp: reasoning_content", ["reasoning_content"]],
    ["vLLM and Ollama: reasoning", ["reasoning"]],
    ["vLLM in transition: both, the same text", ["reasoning_content", "reasoning"]],
    ["OpenRouter: reasoning and reasoning_details", ["reasoning", "reasoning_details"]],
    ["reasoning_details alone: its text, not the encrypted part", ["reasoning_details"]],
  ])("reads the thinking of %s", async (_name, reasoningFields) => {
    const { url } = await harness({}, { ...thinker, reasoningFields });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.filter((event) => event.type === "reasoning").map((event) => event.chunk)).toEqual(thinking);
    expect(completeOf(events).full_reasoning).toBe(thinking.join(""));
  });

  it("says nothing of reasoning for a model that does not reason", async () => {
    const { url, upstream } = await harness({}, { text: "Plain answer." });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.some((event) => event.type === "reasoning")).toBe(false);
    const complete = completeOf(events);
    expect(complete).not.toHaveProperty("full_reasoning");
    expect(complete.timing).not.toHaveProperty("reasoning_ms");
    expect(complete.usage).toMatchObject({ cached_input_tokens: 0, reasoning_tokens: 0 });
    const answer = await postJson(`${url}/chat`, { message: "hi" });
    expect(answer.body).not.toHaveProperty("reasoning");
    expect(upstream.requests[0]?.body).not.toHaveProperty("reasoning_effort");
  });

  it("streams reasoning on GET /chat/stream, and passes reasoning_effort from the query", async () => {
    const served = await harness({}, thinker);
    const query = new URLSearchParams({ message: "think hard", reasoning_effort: "low" });
    const events = await getEvents(`${served.url}/chat/stream?${query}`);
    expect(shapeOf(events)).toEqual(["start", "reasoning", "content", "complete"]);
    expect(reasoningOf(events)).toBe(thinking.join(""));
    expect(served.upstream.requests[0]?.body.reasoning_effort).toBe("low");
  });

  it("returns the reasoning beside the answer from POST /chat, and passes reasoning_effort on", async () => {
    const served = await harness({}, thinker);
    const { status, body } = await postJson(`${served.url}/chat`, { message: "hi", reasoning_effort: "high" });
    expect(status).toBe(200);
    const result = ChatResult.parse(body);
    expect(result).toMatchObject({ response: "Hello there!", reasoning: thinking.join("") });
    expect(result.timing.reasoning_ms).toEqual(expect.any(Number));
    expect(served.upstream.requests[0]?.body.reasoning_effort).toBe("high");
  });

  it("refuses a reasoning_effort it does not know, naming the field", async () => {
    const served = await harness({}, thinker);
    const posted = await postJson(`${served.url}/chat/stream`, { message: "hi", reasoning_effort: "extreme" });
    expect(posted.status).toBe(400);
    expect(ErrorBody.parse(posted.body)).toMatchObject({
      code: "bad_request",
      fields: { reasoning_effort: [expect.any(String)] },
    });
    const got = await fetch(`${served.url}/chat/stream?message=hi&reasoning_effort=max`);
    expect(got.status).toBe(400);
    expect(ErrorBody.parse(await got.json()).fields).toHaveProperty("reasoning_effort");
    expect(served.upstream.requests).toHaveLength(0);
  });
});

describe("reasoning on tRPC and the typed client", () => {
  it.each(["true", "false"])(
    "streams reasoning events through chat.stream and chat.events (TRPC_SSE_FAST_PATH=%s)",
    async (fastPath) => {
      const { url } = await harness({ TRPC_SSE_FAST_PATH: fastPath }, thinker);
      const { trpc } = createBrookClient({ url });
      const reading = readTracked((observer) => trpc.chat.stream.subscribe({ message: "hi" }, observer));
      afterThisTest(() => reading.unsubscribe());
      await vi.waitFor(() => expect(reading.events.at(-1)?.event.type).toBe("complete"));
      const events = reading.events.map((tracked: TrackedEvent) => tracked.event);
      expect(shapeOf(events)).toEqual(["start", "reasoning", "content", "complete"]);
      expect(reasoningOf(events)).toBe(thinking.join(""));

      const { run_id } = await trpc.chat.start.mutate({ message: "hi", reasoning_effort: "medium" });
      const replay = readTracked((observer) => trpc.chat.events.subscribe({ run_id }, observer));
      afterThisTest(() => replay.unsubscribe());
      await vi.waitFor(() => expect(replay.events.at(-1)?.event.type).toBe("complete"));
      expect(completeOf(replay.events.map((tracked) => tracked.event)).full_reasoning).toBe(thinking.join(""));
    },
  );

  it("yields reasoning events from streamChat, and the reasoning from chat.complete", async () => {
    const served = await harness({}, thinker);
    const client = createBrookClient({ url: served.url });
    const events: ChatEvent[] = [];
    for await (const event of client.streamChat({ message: "hi", reasoning_effort: "low" })) events.push(event);
    expect(shapeOf(events)).toEqual(["start", "reasoning", "content", "complete"]);
    expect(reasoningOf(events)).toBe(thinking.join(""));
    expect(served.upstream.requests[0]?.body.reasoning_effort).toBe("low");

    const result = await client.trpc.chat.complete.mutate({ message: "hi" });
    expect(result).toMatchObject({ response: "Hello there!", reasoning: thinking.join("") });
    expect(result.usage.reasoning_tokens).toBe(thinking.length);
  });
});

describe("long thinking and the timeouts", () => {
  it("completes a model that thinks for longer than FIRST_TOKEN_TIMEOUT_MS before its first answer token", async () => {
    const pieces = Array.from({ length: 16 }, (_, index) => `step ${index}. `);
    // 1.6 s of thinking, a piece every 100 ms, against a first-token limit of 0.5 s.
    const { url } = await harness(
      { FIRST_TOKEN_TIMEOUT_MS: "500", IDLE_TIMEOUT_MS: "2000" },
      { reasoning: pieces, delayMs: 100, text: "Done." },
    );
    const events = await streamEvents(url, { message: "think long" });
    const complete = completeOf(events);
    expect(complete).toMatchObject({ full_content: "Done.", full_reasoning: pieces.join("") });
    expect(complete.usage.output_tokens).toBeGreaterThan(pieces.length);
    // The answer really came after the first-token limit had passed.
    expect(complete.timing.ttft_ms).toBeGreaterThan(500);
  });

  it("still ends a model that goes silent in the middle of its thinking (IDLE_TIMEOUT_MS), counting what it sent", async () => {
    const { url } = await harness(
      { FIRST_TOKEN_TIMEOUT_MS: "5000", IDLE_TIMEOUT_MS: "300" },
      { ...thinker, hangAfter: 2 },
    );
    const events = await streamEvents(url, { message: "think and stall" });
    expect(events.filter((event) => event.type === "reasoning")).toHaveLength(2);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: "error", code: "timeout", usage: { estimated: true } });
    expect(last?.type === "error" && last.error).toMatch(/IDLE_TIMEOUT_MS/);
    expect(last?.type === "error" && last.usage.reasoning_tokens).toBeGreaterThan(0);
  });
});

describe("usage and cost of reasoning models", () => {
  it("reports cached and reasoning tokens, and prices cached input at the cache-read rate", async () => {
    const usage = { prompt_tokens: 2_000, completion_tokens: 1_000, cached_tokens: 1_200, reasoning_tokens: 700 };
    const { url } = await harness({}, { ...thinker, usage });
    const cached = completeOf(await streamEvents(url, { message: "hi", model: "gpt-4o-mini" })).usage;
    expect(cached).toMatchObject({
      input_tokens: 2_000,
      output_tokens: 1_000,
      total_tokens: 3_000,
      cached_input_tokens: 1_200,
      reasoning_tokens: 700,
      estimated: false,
      priced: true,
    });
    // gpt-4o-mini: 0.15 $/Mtok input, 0.075 cached, 0.60 output.
    expect(cached.total_cost).toBeCloseTo((800 * 0.15 + 1_200 * 0.075 + 1_000 * 0.6) / 1e6, 12);

    const uncachedBehavior = { ...thinker, usage: { prompt_tokens: 2_000, completion_tokens: 1_000 } };
    const uncached = completeOf(
      await streamEvents(url, { message: `hi ${fake(uncachedBehavior)}`, model: "gpt-4o-mini" }),
    ).usage;
    expect(uncached.total_cost).toBeCloseTo((2_000 * 0.15 + 1_000 * 0.6) / 1e6, 12);
    // The fake counts the reasoning chunks when told nothing else.
    expect(uncached).toMatchObject({ cached_input_tokens: 0, reasoning_tokens: thinking.length });
  });

  it("counts the thinking as output when the server reports no usage", async () => {
    const long = ["Let me think about this greeting carefully. ", "A friendly reply seems right, short and warm."];
    const { url } = await harness({}, { omitUsage: true, text: "Hello there!" });
    const plain = completeOf(await streamEvents(url, { message: "hi" })).usage;
    const reasoned = completeOf(await streamEvents(url, { message: `hi ${fake({ reasoning: long })}` })).usage;
    expect(plain).toMatchObject({ estimated: true, reasoning_tokens: 0 });
    expect(reasoned).toMatchObject({ estimated: true, cached_input_tokens: 0 });
    expect(reasoned.reasoning_tokens).toBeGreaterThan(10);
    expect(reasoned.output_tokens).toBe(plain.output_tokens + reasoned.reasoning_tokens);
  });

  it("adds cached and reasoning tokens up in /stats, stats.get and /metrics", async () => {
    const usage = { prompt_tokens: 100, completion_tokens: 50, cached_tokens: 64, reasoning_tokens: 30 };
    const { url } = await harness({}, { ...thinker, usage });
    await streamEvents(url, { message: "one" });
    await postJson(`${url}/chat`, { message: "two" });
    const stats = Stats.parse(await (await fetch(`${url}/stats`)).json());
    expect(stats.tokens).toEqual({ input: 200, output: 100, total: 300, cached_input: 128, reasoning: 60 });
    expect(stats.models["gpt-4o-mini"]).toMatchObject({
      requests: 2,
      input_tokens: 200,
      output_tokens: 100,
      cached_input_tokens: 128,
      reasoning_tokens: 60,
    });
    expect((await createBrookClient({ url }).trpc.stats.get.query()).tokens).toEqual(stats.tokens);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^brook_tokens_total\{model="gpt-4o-mini",direction="cached_input"\} 128$/m);
    expect(metrics).toMatch(/^brook_tokens_total\{model="gpt-4o-mini",direction="reasoning"\} 60$/m);
    expect(metrics).toMatch(/^brook_tokens_total\{model="gpt-4o-mini",direction="input"\} 200$/m);
  });
});

describe("reasoning never goes back to the model", () => {
  it("sends history as role and content only, and no reasoning across tool rounds", async () => {
    const mcp = await startMcpTestServer();
    afterThisTest(() => mcp.close());
    const served = await harness(
      { MCP_URL: mcp.url },
      {
        reasoning: ["I should echo it. "],
        toolCallDeltas: toolCallDeltas([{ id: "call_r", name: "echo", arguments: '{"text":"spring"}' }]),
        afterTools: { reasoning: ["It echoed spring. "], text: "The tool said spring." },
      },
    );
    await untilConnected(served.url);
    const history = [
      { role: "user", content: "Earlier question" },
      // A client that keeps the thinking with its messages: the extra field must not reach the model.
      { role: "assistant", content: "Earlier answer", reasoning_content: "Earlier thoughts", reasoning: "x" },
    ];
    const events = await streamEvents(served.url, { message: "echo spring", history });
    expect(shapeOf(events)).toEqual([
      "start",
      "reasoning",
      "tool_call",
      "tool_result",
      "reasoning",
      "content",
      "complete",
    ]);
    expect(completeOf(events).full_reasoning).toBe("I should echo it. It echoed spring. ");

    const bodies = served.upstream.requests.map((request) => request.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0].messages).toContainEqual({ role: "assistant", content: "Earlier answer" });
    for (const body of bodies) {
      for (const message of body.messages) {
        expect(Object.keys(message).filter((key) => key.startsWith("reasoning"))).toEqual([]);
      }
      expect(JSON.stringify(body.messages)).not.toMatch(/Earlier thoughts|I should echo|It echoed/);
    }
    expect(bodies[1].messages.at(-2)).toMatchObject({ role: "assistant", content: null });
  });
});

describe("reasoning in demo mode", () => {
  it("thinks first when the message asks it to, and not otherwise", async () => {
    const demo = await startDemoBrook();
    afterThisTest(() => demo.close());
    const asked = await streamEvents(demo.url, { message: "Think it over: what is a brook?" });
    expect(shapeOf(asked)).toEqual(["start", "reasoning", "content", "complete"]);
    const complete = completeOf(asked);
    expect(complete.full_reasoning).toBe(reasoningOf(asked));
    expect(complete.usage.reasoning_tokens).toBeGreaterThan(0);
    expect(complete.timing.reasoning_ms).toEqual(expect.any(Number));
    const chinese = await streamEvents(demo.url, { message: "请先思考一下" });
    expect(reasoningOf(chinese)).toMatch(/演示模式/);
    const plain = await streamEvents(demo.url, { message: "hello" });
    expect(plain.some((event) => event.type === "reasoning")).toBe(false);
  });
});

describe("reasoning in the CLI", { timeout: 60_000 }, () => {
  it("shows the thinking on stderr apart from the answer, hides it with --no-reasoning, and keeps it in --json", async () => {
    const { url } = await harness(
      {},
      { ...thinker, usage: { prompt_tokens: 40, completion_tokens: 9, cached_tokens: 32 } },
    );
    const shown = await runBrookCli(["chat", "--url", url, "hi"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe("Hello there!\n");
    expect(shown.stderr.startsWith(`${thinking.join("")}\n`)).toBe(true);
    expect(shown.stderr).toMatch(
      /tokens 40 in \(32 cached\) \/ 9 out \(4 reasoning\) · cost \$[\d.]+ · ttft .* · thought /,
    );

    const hidden = await runBrookCli(["chat", "--no-reasoning", "--reasoning-effort", "high", "--url", url, "hi"]);
    expect(hidden.stdout).toBe("Hello there!\n");
    expect(hidden.stderr).not.toContain("greets me");

    const json = await runBrookCli(["chat", "--json", "--url", url, "hi"]);
    const events = json.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as ChatEvent);
    expect(reasoningOf(events)).toBe(thinking.join(""));

    const bad = await runBrookCli(["chat", "--reasoning-effort", "max", "--url", url, "hi"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--reasoning-effort");
  });

  it("dims the thinking when colours are on", async () => {
    const { url } = await harness({}, thinker);
    const result = await runBrookCli(["chat", "--url", url, "hi"], { env: { FORCE_COLOR: "1" } });
    expect(result.stderr).toContain(`\u001b[2m${thinking[0]}\u001b[22m`);
  });
});
