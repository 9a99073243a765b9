/**
 * Typed answers (`output`): the JSON Schema goes upstream as `response_format`, the answer
 * streams as content and as partial objects, and ends with the object checked against the schema
 * on every surface: REST, `POST /chat`, tRPC, `/v1` (the `openai` SDK's `parse()`), `/api/chat`.
 */
import { createBrookClient } from "@brook/client";
import { ChatResult, type CompleteEvent, ErrorBody, type ErrorEvent, type ObjectEvent } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import * as ai from "ai";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { contentOf, type Harness, startDemoBrook, startHarness, streamEvents } from "./support/brook-harness.js";
import { toolCallDeltas } from "./support/mcp-harness.js";
import { fake } from "./support/sse-text.js";
import { readTracked } from "./support/trpc-reader.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

const recipeSchema = {
  type: "object",
  properties: {
    title: { type: "string" },
    minutes: { type: "integer" },
    steps: { type: "array", items: { type: "string" } },
  },
  required: ["title", "minutes", "steps"],
  additionalProperties: false,
};
/** What the fake upstream answers for the schema. */
const recipe = {
  title: 'the title "quoted", then more words',
  minutes: 12345,
  steps: ['the steps "quoted", then more words', 'the steps "quoted", then more words'],
};
const output = { schema: recipeSchema, name: "recipe", strict: true };

let brook: Harness;

beforeAll(async () => {
  brook = await startHarness();
});
afterAll(() => brook.close());

/** The upstream request whose last user message contains `marker`. */
function upstreamBody(marker: string): Json {
  const found = brook.upstream.requests.filter((request) =>
    JSON.stringify(request.body.messages.at(-1)).includes(marker),
  );
  return found.at(-1)?.body;
}

const post = (path: string, body: unknown) =>
  fetch(`${brook.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("REST: POST /chat/stream and POST /chat with output", () => {
  it("sends the schema upstream, streams partial objects beside the content and ends with the object", async () => {
    const events = await streamEvents(brook.url, { message: `rest-typed recipe ${fake({ delayMs: 1 })}`, output });
    expect(upstreamBody("rest-typed").response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "recipe", schema: recipeSchema, strict: true },
    });
    // Old clients still get the JSON text as content.
    expect(JSON.parse(contentOf(events))).toEqual(recipe);
    const partials = events.filter((event): event is ObjectEvent => event.type === "object").map((e) => e.partial);
    expect(partials.length).toBeGreaterThan(3);
    // Each partial differs from the one before, and holds only values that are, or start, the final ones.
    for (const [index, partial] of partials.entries()) {
      expect(JSON.stringify(partial)).not.toBe(JSON.stringify(partials[index - 1]));
      const { title, minutes, steps } = partial as Partial<typeof recipe>;
      if (title !== undefined) expect(recipe.title.startsWith(title)).toBe(true);
      // A number cut midway (`123`) is never sent as a value.
      if (minutes !== undefined) expect(minutes).toBe(12345);
      for (const step of steps ?? []) expect(recipe.steps[0]?.startsWith(step)).toBe(true);
    }
    expect(partials.some((partial) => (partial as { title?: string }).title === "the ti")).toBe(false);
    expect(partials.at(-1)).toEqual(recipe);
    const complete = events.at(-1) as CompleteEvent;
    expect(complete).toMatchObject({ type: "complete", object: recipe, finish_reason: "stop" });
    expect(complete.usage.output_tokens).toBeGreaterThan(0);
  });

  it("POST /chat answers with the object", async () => {
    const response = await post("/chat", { message: "post-typed recipe", output: { schema: recipeSchema } });
    expect(response.status).toBe(200);
    const result = ChatResult.parse(await response.json());
    expect(result.object).toEqual(recipe);
    expect(JSON.parse(result.response)).toEqual(recipe);
    // Without a name, the format is called `answer`; without strict, none is sent.
    expect(upstreamBody("post-typed").response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema: recipeSchema },
    });
  });

  it("a text answer has no object events and no object", async () => {
    const events = await streamEvents(brook.url, { message: "plain text" });
    expect(events.some((event) => event.type === "object")).toBe(false);
    expect(events.at(-1)).not.toHaveProperty("object");
    expect(upstreamBody("plain text")).not.toHaveProperty("response_format");
  });

  it("tool rounds come first, then the object", async () => {
    const calls = toolCallDeltas([{ id: "call_1", name: "no_such_tool", arguments: "{}" }]);
    const events = await streamEvents(brook.url, { message: `typed-tools ${fake({ toolCallDeltas: calls })}`, output });
    const types = events.map((event) => event.type);
    expect(types.indexOf("tool_result")).toBeGreaterThan(types.indexOf("tool_call"));
    expect(types.indexOf("object")).toBeGreaterThan(types.indexOf("tool_result"));
    expect(events.at(-1)).toMatchObject({ type: "complete", object: recipe });
  });

  it("an answer that breaks the schema ends with invalid_output, its usage and its text", async () => {
    const broken = '{"title": 3, "minutes": 20, "steps": []}';
    const events = await streamEvents(brook.url, { message: `broken ${fake({ text: broken })}`, output });
    const error = events.at(-1) as ErrorEvent;
    expect(error).toMatchObject({ type: "error", code: "invalid_output", retryable: false, full_content: broken });
    expect(error.error).toContain("/title must be string");
    expect(error.usage.output_tokens).toBeGreaterThan(0);

    const response = await post("/chat", { message: `broken ${fake({ chunks: ['{"title": "cut', " off"] })}`, output });
    expect(response.status).toBe(502);
    const body = ErrorBody.parse(await response.json());
    expect(body).toMatchObject({ code: "invalid_output", retryable: false, full_content: '{"title": "cut off' });
    expect(body.error).toMatch(/not JSON/);
    expect(body.usage?.output_tokens).toBeGreaterThan(0);
  });

  it("a schema that is not valid JSON Schema, or not of an object, is a 400 naming output.schema", async () => {
    const cases = [
      { schema: { type: "object", properties: { title: { type: "text" } } } },
      { schema: { type: "array", items: { type: "string" } } },
      { schema: { type: "object", required: "title" } },
    ];
    for (const invalid of cases) {
      for (const path of ["/chat", "/chat/stream"]) {
        const response = await post(path, { message: "never sent", output: invalid });
        expect(response.status).toBe(400);
        const body = ErrorBody.parse(await response.json());
        expect(body.code).toBe("bad_request");
        expect(Object.keys(body.fields ?? {})).toEqual(["output.schema"]);
      }
    }
    expect(upstreamBody("never sent")).toBeUndefined();
  });
});

describe("tRPC with output", () => {
  it("chat.complete returns the object; chat.stream carries object events", async () => {
    const trpc = createBrookClient({ url: brook.url }).trpc;
    const result = await trpc.chat.complete.mutate({ message: "trpc-typed", output });
    expect(result.object).toEqual(recipe);

    const reading = readTracked((observer) =>
      trpc.chat.stream.subscribe({ message: `trpc-stream ${fake({ delayMs: 1 })}`, output }, observer),
    );
    const events = (await reading.done).map((tracked) => tracked.event);
    expect(events.filter((event) => event.type === "object").length).toBeGreaterThan(3);
    expect(events.at(-1)).toMatchObject({ type: "complete", object: recipe });
  });

  it("chat.complete of an answer that breaks the schema is BAD_GATEWAY invalid_output, with usage and text", async () => {
    const trpc = createBrookClient({ url: brook.url }).trpc;
    const error = await trpc.chat.complete
      .mutate({ message: `trpc-broken ${fake({ text: '{"title": "only"}' })}`, output })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as { data: unknown }).data).toMatchObject({
      code: "BAD_GATEWAY",
      httpStatus: 502,
      brook_code: "invalid_output",
      retryable: false,
      full_content: '{"title": "only"}',
      usage: { output_tokens: expect.any(Number) },
    });
  });

  it("an invalid schema is BAD_REQUEST naming output.schema", async () => {
    const trpc = createBrookClient({ url: brook.url }).trpc;
    const error = await trpc.chat.complete
      .mutate({ message: "x", output: { schema: { type: "object", properties: { a: { minimum: "x" } } } } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TRPCClientError);
    const { data } = error as unknown as { data: { code: string; fields?: Record<string, unknown> } };
    expect(data.code).toBe("BAD_REQUEST");
    expect(Object.keys(data.fields ?? {})).toEqual(["output.schema"]);
  });
});

describe("/v1/chat/completions with response_format", () => {
  const Recipe = z.object({ title: z.string(), minutes: z.number().int(), steps: z.array(z.string()) });

  it("the openai SDK's parse() with zodResponseFormat works unchanged", async () => {
    const client = new OpenAI({ apiKey: "unused", baseURL: `${brook.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.parse({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "v1-parse recipe" }],
      response_format: zodResponseFormat(Recipe, "recipe"),
    });
    expect(completion.choices[0]?.message.parsed).toEqual(recipe);
    const sent = upstreamBody("v1-parse").response_format;
    expect(sent).toMatchObject({ type: "json_schema", json_schema: { name: "recipe", strict: true } });

    const stream = client.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "v1-stream recipe" }],
      response_format: zodResponseFormat(Recipe, "recipe"),
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.parsed).toEqual(recipe);
  });

  it("passes json_object through", async () => {
    const client = new OpenAI({ apiKey: "unused", baseURL: `${brook.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "v1-json-object" }],
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ ok: true });
    expect(upstreamBody("v1-json-object").response_format).toEqual({ type: "json_object" });
  });
});

describe("/api/chat with brook.output", () => {
  it("streams the object as one data-object part, updated in place", async () => {
    const stream = await new ai.DefaultChatTransport({
      api: `${brook.url}/api/chat`,
      body: { brook: { output } },
    }).sendMessages({
      chatId: "typed-chat",
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "ai-sdk-typed" }] }],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    });
    const snapshots: ai.UIMessage[] = [];
    for await (const message of ai.readUIMessageStream({ stream })) snapshots.push(structuredClone(message));
    const parts = snapshots.at(-1)?.parts ?? [];
    expect(parts.filter((part) => part.type === "data-object")).toEqual([
      { type: "data-object", id: "object", data: recipe },
    ]);
    // It filled in while streaming.
    const partial = snapshots.find((snapshot) =>
      snapshot.parts.some(
        (part) => part.type === "data-object" && JSON.stringify(part.data) !== JSON.stringify(recipe),
      ),
    );
    expect(partial).toBeDefined();
  });
});

describe("demo mode", () => {
  it("answers with an instance of the schema, offline", async () => {
    const demo = await startDemoBrook();
    try {
      const response = await fetch(`${demo.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "A recipe in 25 minutes", output }),
      });
      expect(response.status).toBe(200);
      const result = ChatResult.parse(await response.json());
      expect(result.object).toMatchObject({ title: "A recipe in 25 minutes", minutes: 25 });
      expect((result.object as { steps: unknown[] }).steps).toHaveLength(1);
    } finally {
      await demo.close();
    }
  });
});
