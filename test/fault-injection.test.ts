import { createServer } from "node:net";
import { ErrorBody, type ErrorEvent, Stats } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { contentOf, streamEvents } from "./support/brook-harness.js";
import { harness } from "./support/per-test.js";
import { fakeTokens } from "./support/trpc-reader.js";

/** Streams one request and checks it ended in exactly one terminal event, which it returns. */
async function run(url: string, message = "hi") {
  const events = await streamEvents(url, { message });
  const terminals = events.filter((event) => event.type === "complete" || event.type === "error");
  expect(terminals).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
  return { events, last: terminals[0] as (typeof terminals)[number], text: contentOf(events) };
}

function expectError(last: unknown, code: string): ErrorEvent {
  expect(last).toMatchObject({ type: "error", code });
  return last as ErrorEvent;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("fault injection: the model server misbehaves", () => {
  it("429, then success before the first token: retried once, one answer, billed once", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { text: "the one answer" });
    upstream.enqueue({ status: 429 });
    const { last, text } = await run(url);
    expect(text).toBe("the one answer");
    expect(last.type).toBe("complete");
    expect(upstream.requests).toHaveLength(2);
    const stats = Stats.parse(await (await fetch(`${url}/stats`)).json());
    expect(stats.requests).toMatchObject({ total: 1, succeeded: 1 });
  });

  it("a server error after N tokens: one error event after the N tokens, no retry, no complete", async () => {
    const { url, upstream } = await harness(
      { OPENAI_MAX_RETRIES: "3" },
      { tokens: 4, rawData: JSON.stringify({ error: { message: "overloaded mid-answer", type: "server_error" } }) },
    );
    const { last, text, events } = await run(url);
    expect(text).toBe(fakeTokens(4));
    const error = expectError(last, "upstream_error");
    expect(error.error).toContain("overloaded mid-answer");
    expect(error.retryable).toBe(true);
    expect(error.usage.output_tokens).toBeGreaterThan(0);
    expect(events.some((event) => event.type === "complete")).toBe(false);
    expect(upstream.requests).toHaveLength(1);
  });

  it("a cut after N tokens is never retried either", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "3" }, { tokens: 6, cutAfter: 3 });
    const { last, text } = await run(url);
    expect(text).toBe(fakeTokens(3));
    expectError(last, "upstream_incomplete");
    expect(upstream.requests).toHaveLength(1);
  });

  it("a hang before the first byte ends with timeout (FIRST_TOKEN_TIMEOUT_MS), closes the upstream request, estimates usage", async () => {
    const { url, upstream, brook } = await harness({ FIRST_TOKEN_TIMEOUT_MS: "300" }, { hang: true });
    const { last } = await run(url);
    const error = expectError(last, "timeout");
    expect(error.error).toMatch(/FIRST_TOKEN_TIMEOUT_MS/);
    expect(error.retryable).toBe(true);
    expect(error.usage).toMatchObject({ estimated: true, output_tokens: 0 });
    expect(error.usage.input_tokens).toBeGreaterThan(0);
    await upstream.waitIdle();
    expect(upstream.abortedCount()).toBe(1);
    expect(brook.services.control.activeCount).toBe(0);
  });

  it("headers, then silence before the first token: timeout as well", async () => {
    const { url, upstream } = await harness({ FIRST_TOKEN_TIMEOUT_MS: "300", IDLE_TIMEOUT_MS: "0" }, { hangAfter: 0 });
    const { last } = await run(url);
    expectError(last, "timeout");
    await upstream.waitIdle();
  });

  it("the first-token deadline covers retries: a server that keeps refusing cannot hold a run past it", async () => {
    const { url, upstream } = await harness(
      { FIRST_TOKEN_TIMEOUT_MS: "400", OPENAI_MAX_RETRIES: "10" },
      { status: 503, retryAfterSeconds: 1 },
    );
    const { last } = await run(url);
    expectError(last, "timeout");
    expect(upstream.requests.length).toBeLessThanOrEqual(2);
  });

  it("a hang mid-answer ends with timeout (IDLE_TIMEOUT_MS) after the tokens sent, and keeps their usage", async () => {
    const { url, upstream } = await harness({ IDLE_TIMEOUT_MS: "300" }, { tokens: 6, hangAfter: 3 });
    const { last, text } = await run(url);
    expect(text).toBe(fakeTokens(3));
    const error = expectError(last, "timeout");
    expect(error.error).toMatch(/IDLE_TIMEOUT_MS/);
    // Counted locally (the server sent no usage): the tokens of the text received.
    expect(error.usage.estimated).toBe(true);
    expect(error.usage.output_tokens).toBeGreaterThan(0);
    await upstream.waitIdle();
    expect(upstream.abortedCount()).toBe(1);
  });

  it("a slow but steady answer is not idle: every gap under IDLE_TIMEOUT_MS", async () => {
    const { url } = await harness({ IDLE_TIMEOUT_MS: "400" }, { tokens: 8, delayMs: 100 });
    const { last, text } = await run(url);
    expect(last.type).toBe("complete");
    expect(text).toBe(fakeTokens(8));
  });

  it("a tool call written slowly is not silence: its argument pieces keep both timeouts at bay", async () => {
    const pieces = ['{"city"', ': "Par', "is", '", "days"', ": 3", "}"];
    const toolCallDeltas = [
      [{ index: 0, id: "call_slow", type: "function", function: { name: "forecast", arguments: "" } }],
      ...pieces.map((piece) => [{ index: 0, function: { arguments: piece } }]),
    ];
    // 7 pieces 150 ms apart: longer than either timeout in all, never silent for as long as one.
    const { url } = await harness(
      { FIRST_TOKEN_TIMEOUT_MS: "400", IDLE_TIMEOUT_MS: "400" },
      { toolCallDeltas, delayMs: 150, firstChunkDelayMs: 100 },
    );
    const { events, last } = await run(url);
    expect(last.type).toBe("complete");
    expect(events).toContainEqual(
      expect.objectContaining({ type: "tool_call", name: "forecast", arguments: pieces.join("") }),
    );
  });

  it("a run longer than MAX_RUN_MS ends with timeout, even while tokens flow", async () => {
    const { url, upstream } = await harness({ MAX_RUN_MS: "500" }, { tokens: 200, delayMs: 20 });
    const { last, text } = await run(url);
    const error = expectError(last, "timeout");
    expect(error.error).toMatch(/MAX_RUN_MS/);
    expect(text.length).toBeGreaterThan(0);
    expect(error.usage.output_tokens).toBeGreaterThan(0);
    await upstream.waitIdle();
    expect(upstream.abortedCount()).toBe(1);
  });

  it("malformed chunk JSON: upstream_error, not a complete answer", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { tokens: 2, rawData: "{not json" });
    const { last } = await run(url);
    const error = expectError(last, "upstream_error");
    expect(error.error).toMatch(/malformed/);
    expect(upstream.requests).toHaveLength(1);
  });

  it("a page instead of a stream (wrong content type): upstream_error naming it, nothing billed", async () => {
    const { url } = await harness(
      {},
      { rawBody: "<html><body>Please sign in</body></html>", contentType: "text/html" },
    );
    const { last } = await run(url);
    const error = expectError(last, "upstream_error");
    expect(error.error).toContain("text/html");
    expect(error.usage.total_tokens).toBe(0);
  });

  it("a JSON document instead of a stream: upstream_error", async () => {
    const { url } = await harness({}, { rawBody: '{"choices":[]}', contentType: "application/json" });
    const { last } = await run(url);
    expect(expectError(last, "upstream_error").error).toContain("application/json");
  });

  it("401 from the model server: upstream_auth saying the upstream rejected the API key, not retried", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { status: 401, errorMessage: "bad key" });
    const { last } = await run(url);
    const error = expectError(last, "upstream_auth");
    expect(error.error).toMatch(/rejected the API key/);
    expect(error.retryable).toBe(false);
    expect(upstream.requests).toHaveLength(1);
  });

  it("connection refused: upstream_unreachable", async () => {
    const port = await closedPort();
    const { url } = await harness({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_MAX_RETRIES: "0" });
    const { last } = await run(url);
    const error = expectError(last, "upstream_unreachable");
    expect(error.retryable).toBe(true);
    expect(error.error).toMatch(/cannot be reached/);
  });

  it("the non-streaming route reports a timeout with the catalogue's status and usage", async () => {
    const { url } = await harness({ IDLE_TIMEOUT_MS: "300" }, { tokens: 4, hangAfter: 2 });
    const response = await fetch(`${url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(response.status).toBe(504);
    const body = ErrorBody.parse(await response.json());
    expect(body).toMatchObject({ code: "timeout", retryable: true, usage: { estimated: true } });
    expect(body.usage?.output_tokens).toBeGreaterThan(0);
  });
});
