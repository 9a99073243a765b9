import { Writable } from "node:stream";
import { type AppRouter, createBrookClient } from "@brook/client";
import { createBrook, parseConfig } from "@brook/server";
import { ErrorBody, Health } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { EventSource } from "eventsource";
import { describe, expect, it } from "vitest";
import { contentOf, streamEvents } from "./support/brook-harness.js";
import { startFakeUpstream } from "./support/fake-upstream.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { trpcFailure } from "./support/trpc-failure.js";
import { readTracked } from "./support/trpc-reader.js";

const key = "brook-test-key-0123456789";
const auth = { authorization: `Bearer ${key}` };

async function refusal(response: Response) {
  return { status: response.status, headers: response.headers, body: ErrorBody.parse(await response.json()) };
}

describe("API keys (BROOK_API_KEYS)", () => {
  it("REST: refuses a missing or wrong key with 401 unauthorized and WWW-Authenticate, serves the right key", async () => {
    const { url, upstream } = await harness({ BROOK_API_KEYS: `other-key,${key}` });
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ message: "hi" }),
      });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: key },
      { authorization: `Basic ${key}` },
    ];
    for (const headers of attempts) {
      const { status, headers: responseHeaders, body } = await refusal(await post(headers));
      expect(status).toBe(401);
      expect(body).toMatchObject({ code: "unauthorized", retryable: false });
      expect(responseHeaders.get("www-authenticate")).toMatch(/^Bearer/);
    }
    for (const path of ["/stats", "/metrics", "/chat/stream?message=hi"]) {
      expect((await fetch(`${url}${path}`)).status).toBe(401);
    }
    expect((await fetch(`${url}/reset-stats`, { method: "POST" })).status).toBe(401);
    // Nothing refused reached the model.
    expect(upstream.requests).toHaveLength(0);

    const answer = await post(auth);
    expect(answer.status).toBe(200);
    expect(
      contentOf(
        await streamEvents(url, { message: "hi" }, { headers: { "content-type": "application/json", ...auth } }),
      ),
    ).toBe("Hello from the fake upstream.");
    expect((await fetch(`${url}/stats`, { headers: auth })).status).toBe(200);
  });

  it("keeps /health, the status at / and the web app's files open, and /health says a key is required", async () => {
    const { url } = await harness({ BROOK_API_KEYS: key });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(Health.parse(await health.json())).toMatchObject({ status: "ok", auth_required: true });
    expect((await fetch(`${url}/`)).status).toBe(200);
    // Static paths are not refused for want of a key (they are simply not there in this build).
    expect((await fetch(`${url}/assets/app.js`)).status).toBe(404);
    expect((await fetch(`${url}/favicon.ico`)).status).toBe(404);
  });

  it("an open server says so in /health", async () => {
    const { url } = await harness();
    expect(Health.parse(await (await fetch(`${url}/health`)).json()).auth_required).toBe(false);
  });

  it("tRPC over HTTP: procedures need the key, health does not", async () => {
    const { url, upstream } = await harness({ BROOK_API_KEYS: key });
    const anonymous = createBrookClient({ url }).trpc;
    expect((await anonymous.health.query()).auth_required).toBe(true);
    const error = await trpcFailure(anonymous.chat.complete.mutate({ message: "hi" }));
    expect(error.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401, brook_code: "unauthorized" });
    // Starting a run to read later, cancelling one and listing the tools need the key too.
    const wrong = createBrookClient({ url, apiKey: "wrong" }).trpc;
    for (const refused of [
      () => anonymous.chat.start.mutate({ message: "hi" }),
      () => wrong.chat.start.mutate({ message: "hi" }),
      () => anonymous.chat.cancel.mutate({ run_id: "run_0123456789abcdef" }),
      () => anonymous.tools.list.query(),
    ]) {
      expect((await trpcFailure(refused())).data).toMatchObject({ httpStatus: 401, brook_code: "unauthorized" });
    }
    expect(upstream.requests).toHaveLength(0);
    await trpcFailure(createBrookClient({ url, apiKey: "wrong" }).trpc.stats.get.query());

    const raw = await fetch(`${url}/trpc/stats.get`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toMatch(/^Bearer/);

    const result = await createBrookClient({ url, apiKey: key }).trpc.chat.complete.mutate({ message: "hi" });
    expect(result.response).toBe("Hello from the fake upstream.");
  });

  it("tRPC subscriptions: a browser-style client passes the key as a connection parameter", async () => {
    const { url } = await harness({ BROOK_API_KEYS: key });
    // Given an EventSource, the client behaves as in a browser: no headers, connection parameters instead.
    const browser = createBrookClient({ url, apiKey: key, EventSource: EventSource as never });
    const events = [];
    for await (const event of browser.streamChat({ message: "hi" })) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "complete", full_content: "Hello from the fake upstream." });

    const { run_id } = await browser.trpc.chat.start.mutate({ message: "again" });
    const intruder = createBrookClient({ url, apiKey: "wrong", EventSource: EventSource as never });
    const reading = readTracked((observer) => intruder.trpc.chat.events.subscribe({ run_id }, observer));
    afterThisTest(() => reading.unsubscribe());
    const error = await reading.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data).toMatchObject({ brook_code: "unauthorized" });
    expect(reading.events).toHaveLength(0);
  });
});

describe("browser origins (CORS_ORIGINS)", () => {
  const post = (url: string, origin: string, extra: Record<string, string> = {}) =>
    fetch(`${url}/chat`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin, ...extra },
      body: JSON.stringify({ message: "hi" }),
    });

  it("by default refuses other origins with 403 forbidden_origin before any model call, and serves its own", async () => {
    const { url, upstream } = await harness();
    const foreign = await refusal(await post(url, "https://evil.example"));
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe("forbidden_origin");
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(upstream.requests).toHaveLength(0);

    const own = await post(url, url);
    expect(own.status).toBe(200);
    expect(own.headers.get("access-control-allow-origin")).toBeNull();
    // Behind a proxy that rewrites Host, X-Forwarded-Host names the public host.
    expect((await post(url, "https://chat.example", { "x-forwarded-host": "chat.example" })).status).toBe(200);
  });

  it("answers preflights and calls of listed origins with CORS headers, others not", async () => {
    const { url } = await harness({ CORS_ORIGINS: "https://app.example", BROOK_API_KEYS: key });
    const preflight = await fetch(`${url}/chat/stream`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);

    const listed = await post(url, "https://app.example", auth);
    expect(listed.status).toBe(200);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    // Streams too: a browser reads a cross-origin stream only with these headers.
    const stream = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://app.example", ...auth },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(stream.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(stream.headers.get("access-control-expose-headers")).toMatch(/retry-after/);
    await stream.text();

    const other = await fetch(`${url}/chat/stream`, {
      method: "OPTIONS",
      headers: { origin: "https://other.example", "access-control-request-method": "POST" },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("* allows any origin", async () => {
    const { url } = await harness({ CORS_ORIGINS: "*" });
    const response = await post(url, "https://anywhere.example");
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://anywhere.example");
  });
});

describe("logs", () => {
  async function brookWithLog(env: Record<string, string>) {
    const upstream = await startFakeUpstream();
    let log = "";
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        log += String(chunk);
        done();
      },
    });
    const brook = await createBrook(
      parseConfig({
        LOG_LEVEL: "trace",
        OPENAI_API_KEY: "upstream-secret-key",
        OPENAI_BASE_URL: upstream.url,
        OPENAI_MAX_RETRIES: "0",
        BROOK_API_KEYS: key,
        DRAIN_TIMEOUT_MS: "0",
        ...env,
      }),
      { logStream },
    );
    const url = await brook.listen(0);
    afterThisTest(async () => {
      await brook.close();
      await upstream.close();
    });
    return { url, log: () => log };
  }

  /** Every surface, with the key and a recognisable message: headers, query strings, bodies, tRPC. */
  async function exercise(url: string, marker: string) {
    const headers = { "content-type": "application/json", ...auth };
    await streamEvents(url, { message: `post ${marker}` }, { headers });
    await (await fetch(`${url}/chat/stream?message=${encodeURIComponent(`get ${marker}`)}`, { headers: auth })).text();
    await (
      await fetch(`${url}/chat`, {
        method: "POST",
        headers,
        body: JSON.stringify({ message: `fail ${marker} [[fake:{"status":500}]]` }),
      })
    ).text();
    await (await fetch(`${url}/chat`, { method: "POST", headers, body: `{"message": "${marker}` })).text();
    await (await fetch(`${url}/stats`, { headers: { authorization: `Bearer wrong-${key}` } })).text();
    const browser = createBrookClient({ url, apiKey: key, EventSource: EventSource as never });
    for await (const _event of browser.streamChat({ message: `trpc ${marker}` })) {
      // read to the end
    }
  }

  it("never contain API keys or message texts, even at LOG_LEVEL=trace", async () => {
    const { url, log } = await brookWithLog({});
    const marker = "PRIVATE-MARKER-7f3a";
    await exercise(url, marker);
    // The test reads real lines: requests and runs were logged.
    expect(log()).toMatch(/request completed/);
    expect(log()).toMatch(/run complete/);
    expect(log()).toMatch(/\[redacted\]/);
    expect(log()).not.toContain(key);
    expect(log()).not.toContain("upstream-secret-key");
    expect(log()).not.toContain(marker);
  });

  it("contain message texts with LOG_CONTENT=true, and still no keys", async () => {
    const { url, log } = await brookWithLog({ LOG_CONTENT: "true" });
    const marker = "VISIBLE-MARKER-9c1d";
    await exercise(url, marker);
    expect(log()).toContain(`post ${marker}`);
    expect(log()).not.toContain(key);
  });
});
