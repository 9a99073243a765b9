import { ErrorBody, type ErrorEvent } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBrookCli } from "./support/brook-cli.js";
import { contentOf, type Harness, startHarness, streamEvents } from "./support/brook-harness.js";
import { startFakeUpstream } from "./support/fake-upstream.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

/** A message whose answer starts, then carries `data: {"error": error}` in the stream. */
const failingMidStream = (error: Record<string, unknown>) =>
  `hi ${fake({ text: "partial answer", rawData: JSON.stringify({ error }) })}`;

async function streamedError(url: string, message: string): Promise<{ text: string; error: ErrorEvent }> {
  const events = await streamEvents(url, { message });
  const terminals = events.filter((event) => event.type === "complete" || event.type === "error");
  expect(terminals).toHaveLength(1);
  expect(terminals[0]?.type).toBe("error");
  return { text: contentOf(events), error: terminals[0] as ErrorEvent };
}

describe("errors the model server sends inside a stream", () => {
  let brook: Harness;
  beforeAll(async () => {
    brook = await startHarness();
  });
  afterAll(() => brook.close());

  const cases = [
    {
      name: "a rejected key (invalid_api_key)",
      error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
      code: "upstream_auth",
      retryable: false,
      text: "The model server rejected the API key (in its stream: Incorrect API key provided); check OPENAI_API_KEY.",
    },
    {
      name: "an authentication error by type",
      error: { message: "Invalid bearer token", type: "authentication_error" },
      code: "upstream_auth",
      retryable: false,
      text: "The model server rejected the API key (in its stream: Invalid bearer token); check OPENAI_API_KEY.",
    },
    {
      name: "a rate limit",
      error: { message: "Rate limit reached for requests.", type: "requests", code: "rate_limit_exceeded" },
      code: "upstream_rate_limited",
      retryable: true,
      text: "The model server is rate limiting requests (in its stream: Rate limit reached for requests).",
    },
    {
      name: "an exhausted quota",
      error: { message: "You exceeded your current quota.", type: "insufficient_quota", code: "insufficient_quota" },
      code: "upstream_quota",
      retryable: false,
      text: "The model server's quota for this API key is used up (in its stream: You exceeded your current quota); check the account's plan and billing.",
    },
    {
      name: "a context too long",
      error: { message: "This model's maximum context length is 8192 tokens.", code: "context_length_exceeded" },
      code: "upstream_bad_request",
      retryable: false,
      text: "The model server rejected the request (in its stream: This model's maximum context length is 8192 tokens).",
    },
    {
      name: "an invalid request",
      error: { message: "Invalid 'messages'.", type: "invalid_request_error" },
      code: "upstream_bad_request",
      retryable: false,
      text: "The model server rejected the request (in its stream: Invalid 'messages').",
    },
    {
      name: "a server error",
      error: { message: "The server had an error while processing your request.", type: "server_error" },
      code: "upstream_error",
      retryable: true,
      text: "The model server failed (in its stream: The server had an error while processing your request).",
    },
    {
      name: "a status carried in the error (vLLM)",
      error: { object: "error", message: "max_tokens must be at least 1.", type: "BadRequestError", code: 400 },
      code: "upstream_bad_request",
      retryable: false,
      text: "The model server rejected the request (in its stream, status 400: max_tokens must be at least 1).",
    },
  ] as const;

  for (const { name, error, code, retryable, text } of cases) {
    it(`${name}: POST /chat/stream keeps the partial answer and ends with ${code} (retryable: ${retryable})`, async () => {
      const streamed = await streamedError(brook.url, failingMidStream(error));
      expect(streamed.text).toBe("partial answer");
      expect(streamed.error).toMatchObject({ code, retryable, error: text });
    });
  }

  it("POST /chat answers an exhausted quota inside the stream as 502, not retryable, like the stream", async () => {
    const response = await fetch(`${brook.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        message: failingMidStream({ message: "You exceeded your current quota.", code: "insufficient_quota" }),
      }),
    });
    expect(response.status).toBe(502);
    expect(ErrorBody.parse(await response.json())).toMatchObject({ code: "upstream_quota", retryable: false });
  });

  it("an HTTP error's text carries the server's message once, with one full stop", async () => {
    const message = `hi ${fake({ status: 401, errorMessage: "Incorrect API key provided.", errorCode: "invalid_api_key" })}`;
    const { error } = await streamedError(brook.url, message);
    expect(error.error).toBe(
      "The model server rejected the API key (HTTP 401: Incorrect API key provided); check OPENAI_API_KEY.",
    );
  });

  it("an HTTP 429 for an exhausted quota is upstream_quota, not a retryable rate limit", async () => {
    const message = `hi ${fake({ status: 429, errorMessage: "You exceeded your current quota.", errorCode: "insufficient_quota" })}`;
    const { error } = await streamedError(brook.url, message);
    expect(error).toMatchObject({ code: "upstream_quota", retryable: false });
  });
});

describe("an OPENAI_BASE_URL without its /v1", () => {
  it("answers upstream_bad_request saying what to check", async () => {
    const upstream = await startFakeUpstream();
    afterThisTest(() => upstream.close());
    const { url } = await harness({ OPENAI_BASE_URL: upstream.url.replace(/\/v1$/, "") });
    const { error } = await streamedError(url, "hi");
    expect(error).toMatchObject({ code: "upstream_bad_request", retryable: false });
    expect(error.error).toBe(
      "The model server has nothing at that address (HTTP 404: No route for POST /chat/completions); check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1.",
    );
  });
});

describe("brook chat against a model server that rejects the key", { timeout: 60_000 }, () => {
  it("says the key was rejected, inside the stream, and never that trying again may work", async () => {
    const { url } = await harness(
      {},
      {
        chunks: [],
        rawData: JSON.stringify({
          error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
        }),
      },
    );
    const result = await runBrookCli(["chat", "--url", url, "hello"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error upstream_auth: The model server rejected the API key (in its stream: Incorrect API key provided); check OPENAI_API_KEY.\n",
    );
    expect(result.stderr).not.toContain("trying again");
  });

  it("says the same of an HTTP 401 to a wrong key", async () => {
    const upstream = await startFakeUpstream({}, { apiKey: "the-right-key" });
    afterThisTest(() => upstream.close());
    const { url } = await harness({
      OPENAI_BASE_URL: upstream.url,
      OPENAI_API_KEY: "a-wrong-key",
      OPENAI_MAX_RETRIES: "2",
    });
    const result = await runBrookCli(["chat", "--url", url, "hello"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error upstream_auth: The model server rejected the API key (HTTP 401: Incorrect API key provided); check OPENAI_API_KEY.\n",
    );
    expect(result.stderr).not.toContain("trying again");
  });
});
