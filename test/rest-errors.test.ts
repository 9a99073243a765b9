import { connect, createServer } from "node:net";
import { ErrorBody, type ErrorEvent, errorCatalogue, Stats, Usage } from "@brook/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { contentOf, type Harness, startHarness } from "./support/brook-harness.js";
import { fake, postStreamRaw, terminalsOf } from "./support/sse-text.js";

/** Streams `message` and checks the stream ends in exactly one terminal event, an error; returns it. */
async function streamFailure(url: string, message: string) {
  const { response, events } = await postStreamRaw(url, { message });
  expect(response.status).toBe(200);
  expect(events[0]?.type).toBe("start");
  expect(terminalsOf(events)).toHaveLength(1);
  expect(events.some((event) => event.type === "complete")).toBe(false);
  const error = events.at(-1) as ErrorEvent;
  expect(error.type).toBe("error");
  expect(typeof error.error).toBe("string");
  expect(error.error).not.toBe("");
  expect(Usage.safeParse(error.usage).success).toBe(true);
  return { events, error };
}

/** A port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

describe("REST errors: upstream failures", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it("an upstream 500 before streaming ends the stream with one retryable upstream_error", async () => {
    const { error } = await streamFailure(harness.url, `hi ${fake({ status: 500 })}`);
    expect(error).toMatchObject({ code: "upstream_error", retryable: true });
    expect(error.usage.output_tokens).toBe(0);
  });

  it("an upstream 401 is upstream_auth and tells the user to check the API key", async () => {
    const { error } = await streamFailure(harness.url, `hi ${fake({ status: 401, errorMessage: "Incorrect key" })}`);
    expect(error).toMatchObject({ code: "upstream_auth", retryable: false });
    expect(error.error).toMatch(/API key/);
  });

  it("an upstream 429 is upstream_rate_limited (not Brook's own rate_limited) and retryable", async () => {
    const { error } = await streamFailure(harness.url, `hi ${fake({ status: 429 })}`);
    expect(error).toMatchObject({ code: "upstream_rate_limited", retryable: true });
  });

  it("an upstream 400 is upstream_bad_request and passes on the upstream's reason", async () => {
    const { error } = await streamFailure(
      harness.url,
      `hi ${fake({ status: 400, errorMessage: "max_tokens is too large" })}`,
    );
    expect(error).toMatchObject({ code: "upstream_bad_request", retryable: false });
    expect(error.error).toContain("max_tokens is too large");
  });

  it("a cut stream delivers the content before the cut, then one error and no complete", async () => {
    const { events, error } = await streamFailure(harness.url, `hi ${fake({ text: "one two three", cutAfter: 2 })}`);
    expect(contentOf(events)).toBe("one two");
    expect(error.retryable).toBe(true);
    // The server took the prompt and generated part of an answer: both count, estimated.
    expect(error.usage).toMatchObject({ estimated: true, output_tokens: 2 });
    expect(error.usage.input_tokens).toBeGreaterThan(0);
  });

  it("bills nothing for a request the model server refused", async () => {
    await fetch(`${harness.url}/reset-stats`, { method: "POST" });
    const { error } = await streamFailure(harness.url, `hi ${fake({ status: 401 })}`);
    expect(error.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, total_tokens: 0, total_cost: 0 });
    const stats = Stats.parse(await (await fetch(`${harness.url}/stats`)).json());
    expect(stats.tokens.total).toBe(0);
    expect(stats.total_cost).toBe(0);
  });

  it("a stream that ends without a finish_reason is upstream_incomplete", async () => {
    const { events, error } = await streamFailure(
      harness.url,
      `hi ${fake({ text: "one two three", endWithoutFinishAfter: 2 })}`,
    );
    expect(contentOf(events)).toBe("one two");
    expect(error).toMatchObject({ code: "upstream_incomplete", retryable: true });
  });

  it("a malformed upstream chunk ends the stream with an upstream_error", async () => {
    const { events, error } = await streamFailure(harness.url, `hi ${fake({ text: "one two", rawData: "{not json" })}`);
    expect(contentOf(events)).toBe("one two");
    expect(error.code).toBe("upstream_error");
  });

  it("POST /chat answers the catalogue's status with {error, code, retryable, usage}", async () => {
    const cases = [
      { status: 500, code: "upstream_error", http: 502, retryable: true },
      { status: 401, code: "upstream_auth", http: 502, retryable: false },
      { status: 429, code: "upstream_rate_limited", http: 429, retryable: true },
      { status: 400, code: "upstream_bad_request", http: 400, retryable: false },
    ] as const;
    for (const { status, code, http, retryable } of cases) {
      const response = await fetch(`${harness.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: `hi ${fake({ status })}` }),
      });
      expect(response.status, code).toBe(http);
      expect(http).toBe(errorCatalogue[code].status);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const body = ErrorBody.parse(await response.json());
      expect(body).toMatchObject({ code, retryable });
      expect(body.error).not.toBe("");
      expect(body.usage).toMatchObject({ output_tokens: 0 });
    }
  });

  it("POST /chat reports a cut stream as a 502 with the usage of what was generated", async () => {
    const response = await fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `hi ${fake({ text: "one two three", cutAfter: 2 })}` }),
    });
    expect(response.status).toBe(502);
    const body = ErrorBody.parse(await response.json());
    expect(body.retryable).toBe(true);
    expect(body.usage?.output_tokens).toBeGreaterThan(0);
  });

  it("counts failed runs as failed in /stats", async () => {
    await fetch(`${harness.url}/reset-stats`, { method: "POST" });
    await streamFailure(harness.url, `hi ${fake({ status: 500 })}`);
    await fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `hi ${fake({ status: 500 })}` }),
    });
    const stats = Stats.parse(await (await fetch(`${harness.url}/stats`)).json());
    expect(stats.requests).toMatchObject({ total: 2, streaming: 1, non_streaming: 1, failed: 2, succeeded: 0 });
  });
});

describe("REST errors: unreachable upstream", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("a refused connection is upstream_unreachable, on /chat/stream and on /chat", async () => {
    harness = await startHarness({ OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    const { error } = await streamFailure(harness.url, "hi");
    expect(error).toMatchObject({ code: "upstream_unreachable", retryable: true });
    expect(error.error).toMatch(/OPENAI_BASE_URL/);

    const response = await fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(response.status).toBe(502);
    expect(ErrorBody.parse(await response.json())).toMatchObject({ code: "upstream_unreachable", retryable: true });
    expect(harness.upstream.requests).toHaveLength(0);
  });
});

describe("REST errors: bad input", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  const jsonBody = (value: unknown) => ({ body: JSON.stringify(value), type: "application/json" });
  const cases: { name: string; body: string; type: string; field: string }[] = [
    { name: "missing message", ...jsonBody({ system_prompt: "hi" }), field: "message" },
    { name: "empty message", ...jsonBody({ message: "" }), field: "message" },
    { name: "blank message", ...jsonBody({ message: "   " }), field: "message" },
    { name: "message of the wrong type", ...jsonBody({ message: 42 }), field: "message" },
    { name: "non-JSON body", body: "message=hi", type: "application/json", field: "body" },
    { name: "non-JSON text/plain body", body: "{message: hi", type: "text/plain", field: "body" },
    { name: "empty JSON body", body: "", type: "application/json", field: "body" },
    { name: "JSON array body", ...jsonBody([{ message: "hi" }]), field: "body" },
    { name: "temperature out of range", ...jsonBody({ message: "hi", temperature: 3 }), field: "temperature" },
    { name: "temperature of the wrong type", ...jsonBody({ message: "hi", temperature: "hot" }), field: "temperature" },
    {
      name: "bad history role",
      ...jsonBody({ message: "hi", history: [{ role: "robot", content: "x" }] }),
      field: "history",
    },
    { name: "max_tokens not a positive integer", ...jsonBody({ message: "hi", max_tokens: 0 }), field: "max_tokens" },
  ];

  for (const route of ["/chat/stream", "/chat"]) {
    it.each(cases)(`POST ${route}: $name → 400 JSON naming the field`, async ({ body, type, field }) => {
      const response = await fetch(`${harness.url}${route}`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const error = ErrorBody.parse(await response.json());
      expect(error).toMatchObject({ code: "bad_request", retryable: false });
      expect(Object.keys(error.fields ?? {})).toContain(field);
      expect(error.error.toLowerCase()).toContain(field);
      expect(harness.upstream.requests).toHaveLength(0);
    });
  }

  it("a POST without any body → 400 JSON naming the body", async () => {
    for (const route of ["/chat/stream", "/chat"]) {
      const response = await fetch(`${harness.url}${route}`, { method: "POST" });
      expect(response.status, route).toBe(400);
      expect(ErrorBody.parse(await response.json()).fields).toHaveProperty("body");
    }
  });

  it("GET /chat/stream without a message → 400 JSON naming message", async () => {
    const response = await fetch(`${harness.url}/chat/stream?system_prompt=x`);
    expect(response.status).toBe(400);
    expect(ErrorBody.parse(await response.json()).fields).toHaveProperty("message");
  });

  it("GET /chat/stream with a non-numeric temperature → 400 JSON naming temperature", async () => {
    const response = await fetch(`${harness.url}/chat/stream?message=hi&temperature=warm`);
    expect(response.status).toBe(400);
    expect(ErrorBody.parse(await response.json()).fields).toHaveProperty("temperature");
  });

  it("a body over 1 MiB and the attachments' room → 413 JSON, and no run starts", async () => {
    // No attachments allowed: the body limit is the text's 1 MiB.
    const small = await startHarness({ MAX_ATTACHMENTS: "0" });
    try {
      const response = await fetch(`${small.url}/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "x".repeat(1_100_000) }),
      });
      expect(response.status).toBe(413);
      const error = ErrorBody.parse(await response.json());
      expect(error).toMatchObject({ code: "payload_too_large", retryable: false });
      expect(error.error).toContain("1 MiB");
      expect(error.error).toContain("MAX_ATTACHMENTS");
      expect(small.upstream.requests).toHaveLength(0);
    } finally {
      await small.close();
    }
  });

  it("a wrong method on a route → 405 JSON with Allow, and no run starts", async () => {
    const requestsBefore = harness.upstream.requests.length;
    for (const [method, path, allow] of [
      ["GET", "/chat", "POST"],
      ["PUT", "/chat/stream", "POST, GET"],
      ["POST", "/health", "GET"],
      ["DELETE", "/reset-stats", "POST"],
    ] as const) {
      const response = await fetch(`${harness.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow")).toBe(allow);
      const body = ErrorBody.parse(await response.json());
      expect(body).toMatchObject({ code: "method_not_allowed", retryable: false });
      expect(body.error).toContain(allow);
    }
    expect(harness.upstream.requests).toHaveLength(requestsBefore);
  });

  it("an unknown route → 404 JSON", async () => {
    const response = await fetch(`${harness.url}/no/such/route?x=1`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = ErrorBody.parse(await response.json());
    expect(body).toMatchObject({ code: "not_found", retryable: false });
    expect(body.error).toContain("/no/such/route");
  });
});

describe("REST errors: refused before a route, in Brook's shape", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  /** Sends raw HTTP and reads the whole answer (Node closes the connection after its refusals). */
  async function rawHttp(request: string): Promise<{ status: number; body: unknown }> {
    const { port } = new URL(harness.url);
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.on("data", (data) => {
      received += data.toString("utf8");
    });
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(request);
    await closed;
    const [head = "", body = ""] = received.split("\r\n\r\n", 2);
    expect(head).toMatch(/\r\ncontent-type: application\/json/i);
    return { status: Number(head.split(" ", 2)[1]), body: JSON.parse(body) };
  }

  async function expectRefusal(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = ErrorBody.parse(await response.json());
    expect(body).toMatchObject({ code, retryable: false });
    return body;
  }

  it("a path segment over 5,000 characters → 400 naming the url (not Fastify's 414 body)", async () => {
    const response = await fetch(`${harness.url}/api/chat/${"x".repeat(6_000)}/stream`);
    const body = await expectRefusal(response, 400, "bad_request");
    expect(body.fields?.url?.[0]).toMatch(/longer than 5000/);
    expect(body.error).not.toContain("x".repeat(100));
  });

  it("a path that is not validly percent-encoded → 400 naming the url", async () => {
    const response = await fetch(`${harness.url}/api/chat/%ff/stream`);
    const body = await expectRefusal(response, 400, "bad_request");
    expect(body.fields?.url?.[0]).toMatch(/percent-encoded/);
  });

  it("request headers over 16 KiB → Brook's 400 naming the headers (not Node's 431 body)", async () => {
    const { status, body } = await rawHttp(
      `GET /health HTTP/1.1\r\nHost: brook\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`,
    );
    expect(status).toBe(400);
    expect(ErrorBody.parse(body)).toMatchObject({ code: "bad_request", fields: { headers: [expect.any(String)] } });
  });

  it("a request that is not HTTP → Brook's 400 naming the request", async () => {
    const { status, body } = await rawHttp("NOT HTTP AT ALL\r\n\r\n");
    expect(status).toBe(400);
    expect(ErrorBody.parse(body).fields).toHaveProperty("request");
  });

  it("GET /assets/ and a missing asset → 404 not_found, not a 400 about the body", async () => {
    for (const path of ["/assets/", "/assets/no-such-file.js"]) {
      const body = await expectRefusal(await fetch(`${harness.url}${path}`), 404, "not_found");
      expect(body.fields, path).toBeUndefined();
    }
  });

  it("a body with a __proto__ key is accepted as tRPC accepts it, the key dropped", async () => {
    const body = '{"message":"hi","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    for (const [path, type] of [
      ["/chat", "application/json"],
      ["/chat", "text/plain"],
      ["/trpc/chat.complete", "application/json"],
    ] as const) {
      const response = await fetch(`${harness.url}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      expect(response.status, `${path} ${type}`).toBe(200);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
