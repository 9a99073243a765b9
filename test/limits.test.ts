import { type AppRouter, createBrookClient } from "@brook/client";
import { ErrorBody } from "@brook/shared";
import type { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { streamEvents, until } from "./support/brook-harness.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { trpcFailure } from "./support/trpc-failure.js";
import { readTracked } from "./support/trpc-reader.js";

const json = { "content-type": "application/json" };

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { ...json, ...headers },
    body: JSON.stringify(body),
  });
  return { response, body: response.headers.get("content-type")?.includes("json") ? await response.json() : undefined };
}

describe("concurrency cap (MAX_CONCURRENT_RUNS)", () => {
  it("refuses runs beyond the cap with 429 overloaded and Retry-After on REST and tRPC, then serves again", async () => {
    const { url, upstream, brook } = await harness({ MAX_CONCURRENT_RUNS: "2" }, { hang: true });
    const holders = [new AbortController(), new AbortController()];
    for (const holder of holders) {
      const response = await fetch(`${url}/chat/stream`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ message: "hold" }),
        signal: holder.signal,
      });
      expect(response.status).toBe(200);
      afterThisTest(() => holder.abort());
    }
    await until(() => upstream.requests.length === 2);

    for (const path of ["/chat/stream", "/chat"]) {
      const { response, body } = await post(url, path, { message: "one too many" });
      expect(response.status).toBe(429);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(ErrorBody.parse(body)).toMatchObject({ code: "overloaded", retryable: true });
    }
    const trpc = createBrookClient({ url }).trpc;
    for (const attempt of [trpc.chat.start.mutate({ message: "x" }), trpc.chat.complete.mutate({ message: "x" })]) {
      const error = await trpcFailure(attempt);
      expect(error.data).toMatchObject({ code: "TOO_MANY_REQUESTS", brook_code: "overloaded", retryable: true });
    }
    const raw = await fetch(`${url}/trpc/chat.start`, { method: "POST", headers: json, body: '{"message":"x"}' });
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBe("1");
    // A subscription that would start a run gets the refusal as its error, and no model call is made.
    const reading = readTracked((observer) => trpc.chat.stream.subscribe({ message: "x" }, observer));
    afterThisTest(() => reading.unsubscribe());
    const subscriptionError = await reading.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((subscriptionError as TRPCClientError<AppRouter>).data).toMatchObject({ brook_code: "overloaded" });
    expect(reading.started).toBeLessThanOrEqual(1);
    expect(upstream.requests).toHaveLength(2);

    holders[0]?.abort();
    await until(() => brook.services.control.activeCount < 2);
    upstream.setBehavior({});
    const events = await streamEvents(url, { message: "now there is room" });
    expect(events.at(-1)?.type).toBe("complete");
  });
});

describe("rate limit (RATE_LIMIT_RPM)", () => {
  it("counts requests per key: the next one gets 429 rate_limited with Retry-After, other keys and /health go on", async () => {
    const { url } = await harness({ RATE_LIMIT_RPM: "3", BROOK_API_KEYS: "key-a,key-b" });
    const a = { authorization: "Bearer key-a" };
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/stats`, { headers: a })).status).toBe(200);
    const limited = await fetch(`${url}/stats`, { headers: a });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(ErrorBody.parse(await limited.json())).toMatchObject({ code: "rate_limited", retryable: true });
    expect((await post(url, "/chat", { message: "hi" }, a)).response.status).toBe(429);
    // tRPC calls count too, and are refused in tRPC's shape.
    const error = await trpcFailure(createBrookClient({ url, apiKey: "key-a" }).trpc.stats.get.query());
    expect(error.data).toMatchObject({ code: "TOO_MANY_REQUESTS", brook_code: "rate_limited" });

    expect((await fetch(`${url}/stats`, { headers: { authorization: "Bearer key-b" } })).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it("counts tRPC requests per address when there are no keys", async () => {
    const { url } = await harness({ RATE_LIMIT_RPM: "2" });
    const trpc = createBrookClient({ url }).trpc;
    await trpc.stats.get.query();
    await trpc.stats.get.query();
    const error = await trpcFailure(trpc.stats.get.query());
    expect(error.data).toMatchObject({ brook_code: "rate_limited" });
  });
});

describe("request limits", () => {
  it("refuses a message, history, history entry or max_tokens over its limit with 400 naming the field", async () => {
    const { url, upstream } = await harness({
      MAX_MESSAGE_CHARS: "20",
      MAX_HISTORY_MESSAGES: "2",
      MAX_TOKENS_LIMIT: "100",
    });
    const cases: [unknown, string][] = [
      [{ message: "x".repeat(21) }, "message"],
      [{ message: "hi", system_prompt: "y".repeat(21) }, "system_prompt"],
      [{ message: "hi", history: Array.from({ length: 3 }, () => ({ role: "user", content: "a" })) }, "history"],
      [{ message: "hi", history: [{ role: "user", content: "z".repeat(21) }] }, "history.0.content"],
      [{ message: "hi", max_tokens: 101 }, "max_tokens"],
      [{ message: "hi", max_tokens: 0 }, "max_tokens"],
      [{ message: "hi", max_tokens: 1.5 }, "max_tokens"],
    ];
    for (const path of ["/chat", "/chat/stream"]) {
      for (const [request, field] of cases) {
        const { response, body } = await post(url, path, request);
        expect(response.status, `${path} ${field}`).toBe(400);
        const error = ErrorBody.parse(body);
        expect(error.code).toBe("bad_request");
        expect(Object.keys(error.fields ?? {})).toContain(field);
        expect(error.error).toContain(field);
      }
    }
    const trpc = createBrookClient({ url }).trpc;
    const error = await trpcFailure(trpc.chat.start.mutate({ message: "x".repeat(21) }));
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", brook_code: "bad_request" });
    expect(error.data?.fields).toHaveProperty("message");
    expect(upstream.requests).toHaveLength(0);
    const fine = await post(url, "/chat", { message: "x".repeat(20), max_tokens: 100 });
    expect(fine.response.status).toBe(200);
  });

  it("refuses a body over 1 MiB with 413 payload_too_large", async () => {
    const { url } = await harness();
    const { response, body } = await post(url, "/chat", { message: "x".repeat(1_100_000) });
    expect(response.status).toBe(413);
    expect(ErrorBody.parse(body).code).toBe("payload_too_large");
  });
});
