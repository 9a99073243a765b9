import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { startDemoBrook } from "./support/brook-harness.js";
import { afterThisTest } from "./support/per-test.js";
import { testSeed } from "./support/seeded-random.js";

// The same inputs on every run (BROOK_TEST_SEED picks others); fast-check names the seed of a failure.
fc.configureGlobal({ seed: testSeed });

/** Values shaped like a chat request, with every field sometimes of the wrong kind. */
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const chatLike = fc.record(
  {
    message: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 50 }), anyValue),
    system_prompt: fc.oneof(fc.string({ maxLength: 100 }), anyValue),
    history: fc.oneof(
      fc.array(
        fc.record(
          {
            role: fc.oneof(fc.constantFrom("user", "assistant", "system", "tool"), fc.string()),
            content: fc.oneof(fc.string({ maxLength: 100 }), anyValue),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 5 },
      ),
      anyValue,
    ),
    model: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
    temperature: fc.oneof(fc.double(), fc.integer({ min: -5, max: 5 }), anyValue),
    max_tokens: fc.oneof(fc.integer(), fc.double(), anyValue),
    run_id: fc.oneof(fc.string(), fc.uuid(), anyValue),
    lastEventId: fc.oneof(
      fc.string(),
      fc.uuid().map((id) => `${id}:3`),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);
/** Values shaped like a Responses API body (`/v1/responses`), every field sometimes of the wrong kind. */
const responsesLike = fc.record(
  {
    input: fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.array(
        fc.record(
          {
            type: fc.oneof(
              fc.constantFrom("message", "function_call", "function_call_output", "reasoning", "item_reference"),
              anyValue,
            ),
            role: fc.oneof(fc.constantFrom("user", "assistant", "system", "developer"), anyValue),
            content: fc.oneof(
              fc.string({ maxLength: 50 }),
              fc.array(
                fc.record({ type: fc.constantFrom("input_text", "output_text", "input_image"), text: anyValue }),
              ),
              anyValue,
            ),
            call_id: fc.oneof(fc.string({ maxLength: 10 }), anyValue),
            name: fc.oneof(fc.constantFrom("get_weather", "echo"), anyValue),
            arguments: fc.oneof(fc.constant("{}"), anyValue),
            output: anyValue,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyValue,
    ),
    instructions: anyValue,
    stream: fc.oneof(fc.boolean(), anyValue),
    tools: fc.oneof(
      fc.array(fc.record({ type: fc.constantFrom("function", "web_search"), name: anyValue, parameters: anyValue })),
      anyValue,
    ),
    reasoning: fc.oneof(fc.record({ effort: anyValue, summary: anyValue }, { requiredKeys: [] }), anyValue),
    text: fc.oneof(fc.record({ format: anyValue, verbosity: anyValue }, { requiredKeys: [] }), anyValue),
    max_output_tokens: fc.oneof(fc.integer(), anyValue),
    store: anyValue,
    previous_response_id: anyValue,
  },
  { requiredKeys: [] },
);
/** Raw bodies: structured, any JSON, or any text at all. */
const body = fc.oneof(
  chatLike.map((value) => JSON.stringify(value)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 300 }),
  fc.constant(""),
);
const contentType = fc.constantFrom(
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  undefined,
);
const query = fc.dictionary(
  fc.constantFrom("message", "system_prompt", "model", "temperature", "max_tokens", "x"),
  fc.string({ maxLength: 50 }),
  {
    maxKeys: 5,
  },
);

const postRoutes = [
  "/chat",
  "/chat/stream",
  "/reset-stats",
  "/trpc/chat.start",
  "/trpc/chat.complete",
  "/trpc/chat.cancel",
  "/trpc/stats.reset",
  "/trpc/chat.start,chat.cancel?batch=1",
];
const getRoutes = [
  "/",
  "/health",
  "/stats",
  "/metrics",
  "/chat/stream",
  "/trpc/health",
  "/trpc/stats.get",
  "/trpc/chat.events",
  "/trpc/chat.stream",
  "/trpc/chat.complete",
  "/nowhere",
];

/** Sends a request and reads the whole answer; a hang fails the test through the timeout. */
async function send(url: string, init: RequestInit & { path: string }) {
  const response = await fetch(`${url}${init.path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return { status: response.status, text };
}

describe("fuzzing request bodies on every route", () => {
  it("never answers 5xx (nor hangs) on any POST body", async () => {
    const { url, close } = await startDemoBrook();
    afterThisTest(close);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...postRoutes), body, contentType, async (path, payload, type) => {
        const { status, text } = await send(url, {
          path,
          method: "POST",
          body: payload,
          headers: type === undefined ? {} : { "content-type": type },
        });
        expect(status, `${path} ${payload} → ${text.slice(0, 300)}`).toBeLessThan(500);
      }),
      { numRuns: 250 },
    );
  }, 120_000);

  it("never answers 5xx (nor hangs) on any Responses API body", async () => {
    const { url, close } = await startDemoBrook();
    afterThisTest(close);
    await fc.assert(
      fc.asyncProperty(responsesLike, async (value) => {
        const payload = JSON.stringify(value);
        const { status, text } = await send(url, {
          path: "/v1/responses",
          method: "POST",
          body: payload,
          headers: { "content-type": "application/json" },
        });
        expect(status, `${payload} → ${text.slice(0, 300)}`).toBeLessThan(500);
        // A stream that started ends with its terminal event, never cut short.
        if (status === 200 && text.startsWith("event:"))
          expect(text).toMatch(/"type":"response\.(completed|incomplete)"/);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("never answers 5xx (nor hangs) on any query string or tRPC input", async () => {
    const { url, close } = await startDemoBrook();
    afterThisTest(close);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...getRoutes),
        query,
        fc.oneof(
          chatLike.map((value) => JSON.stringify(value)),
          fc.string({ maxLength: 100 }),
        ),
        async (path, parameters, input) => {
          const search = new URLSearchParams(path.startsWith("/trpc") ? { input } : parameters);
          const { status, text } = await send(url, { path: `${path}?${search}`, method: "GET" });
          expect(status, `${path}?${search} → ${text.slice(0, 300)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 250 },
    );
  }, 120_000);

  it("never answers 5xx on any authorization, origin or Last-Event-ID header", async () => {
    const { url, close } = await startDemoBrook({ BROOK_API_KEYS: "fuzz-key", CORS_ORIGINS: "https://app.example" });
    afterThisTest(close);
    const headerValue = fc.oneof(
      fc.string({ maxLength: 100 }).filter((value) => /^[\t\x20-\x7e]*$/.test(value)),
      fc.constantFrom("Bearer fuzz-key", "Bearer ", "bearer fuzz-key", "null", "https://app.example", "file://"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...postRoutes, ...getRoutes),
        fc.record(
          { authorization: headerValue, origin: headerValue, "last-event-id": headerValue },
          { requiredKeys: [] },
        ),
        async (route, headers) => {
          const post = postRoutes.includes(route) && !getRoutes.includes(route);
          const { status, text } = await send(url, {
            path: route,
            method: post ? "POST" : "GET",
            headers: { ...headers, ...(post ? { "content-type": "application/json" } : {}) },
            ...(post ? { body: '{"message":"hi"}' } : {}),
          });
          expect(status, `${route} ${JSON.stringify(headers)} → ${text.slice(0, 300)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 250 },
    );
  }, 120_000);
});
