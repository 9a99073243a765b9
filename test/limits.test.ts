import { type AppRouter, createBrookClient } from "@brook/client";
import { ErrorBody } from "@brook/shared";
import type { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { type BrookInstance, startCluster } from "./support/brook-cluster.js";
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

  it("refuses a body beyond 1 MiB and the attachments' room with 413 payload_too_large", async () => {
    const { url } = await harness({ MAX_ATTACHMENTS: "0" });
    const { response, body } = await post(url, "/chat", { message: "x".repeat(1_100_000) });
    expect(response.status).toBe(413);
    expect(ErrorBody.parse(body).code).toBe("payload_too_large");
  });
});

/** A raw tRPC batch of `count` calls of `chat.complete`, as httpBatchLink sends it. */
function completeBatch(url: string, count: number, headers: Record<string, string> = {}) {
  const paths = Array.from({ length: count }, () => "chat.complete").join(",");
  const inputs = Object.fromEntries(Array.from({ length: count }, (_, index) => [index, { message: `call ${index}` }]));
  return fetch(`${url}/trpc/${paths}?batch=1`, {
    method: "POST",
    headers: { ...json, ...headers },
    body: JSON.stringify(inputs),
  });
}

interface BatchItem {
  result?: { data: unknown };
  error?: { message: string; data: { code: string; brook_code?: string; retryable: boolean } };
}

describe("tRPC batches and RATE_LIMIT_RPM", () => {
  it("counts each call of a batch: of 10 chat.complete with RATE_LIMIT_RPM=5, 5 run and 5 are refused with rate_limited", async () => {
    const { url, upstream } = await harness({ RATE_LIMIT_RPM: "5", BROOK_API_KEYS: "key-a,key-b" });
    const response = await completeBatch(url, 10, { authorization: "Bearer key-a" });
    const items = (await response.json()) as BatchItem[];
    expect(items).toHaveLength(10);
    const refused = items.filter((item) => item.error !== undefined);
    expect(items.filter((item) => item.result !== undefined)).toHaveLength(5);
    expect(refused).toHaveLength(5);
    for (const { error } of refused) {
      expect(error?.data).toMatchObject({ code: "TOO_MANY_REQUESTS", brook_code: "rate_limited", retryable: true });
      expect(error?.message).toContain("RATE_LIMIT_RPM");
    }
    expect(upstream.requests).toHaveLength(5);
    // The key's minute is used up; another key's is not.
    const more = async (key: string) =>
      (await post(url, "/chat", { message: "more" }, { authorization: `Bearer ${key}` })).response.status;
    expect(await more("key-a")).toBe(429);
    expect(await more("key-b")).toBe(200);
  });

  it("shares the count of batched calls between instances through Redis", async () => {
    const cluster = await startCluster(2, { RATE_LIMIT_RPM: "5", BROOK_API_KEYS: "key-a" });
    afterThisTest(() => cluster.close());
    const [a, b] = cluster.instances as [BrookInstance, BrookInstance];
    const auth = { authorization: "Bearer key-a" };
    const first = (await (await completeBatch(a.url, 4, auth)).json()) as BatchItem[];
    expect(first.every((item) => item.result !== undefined)).toBe(true);
    const second = (await (await completeBatch(b.url, 4, auth)).json()) as BatchItem[];
    expect(second.filter((item) => item.result !== undefined)).toHaveLength(1);
    expect(second.filter((item) => item.error?.data.brook_code === "rate_limited")).toHaveLength(3);
    expect(cluster.upstream.requests).toHaveLength(5);
  });

  it("refuses a batch of more than MAX_BATCH_SIZE calls with 400 bad_request naming the limit, before any model call", async () => {
    const { url, upstream } = await harness({ MAX_BATCH_SIZE: "4" });
    const response = await completeBatch(url, 5);
    expect(response.status).toBe(400);
    const items = (await response.json()) as BatchItem[];
    expect(items).toHaveLength(5);
    for (const { error } of items) {
      expect(error?.data).toMatchObject({ code: "BAD_REQUEST", brook_code: "bad_request", retryable: false });
      expect(error?.message).toBe("A tRPC batch may hold at most 4 calls (MAX_BATCH_SIZE); this one holds 5.");
    }
    // Queries too, and commas sent percent-encoded.
    const encoded = await fetch(`${url}/trpc/${Array(5).fill("stats.get").join("%2C")}?batch=1`);
    expect(encoded.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
    const fits = (await (await completeBatch(url, 4)).json()) as BatchItem[];
    expect(fits.every((item) => item.result !== undefined)).toBe(true);
  });

  it("the typed client splits what it batches below the default MAX_BATCH_SIZE", async () => {
    const { url } = await harness();
    const trpc = createBrookClient({ url }).trpc;
    const answers = await Promise.all(Array.from({ length: 45 }, () => trpc.stats.get.query()));
    expect(answers).toHaveLength(45);
  });
});

describe("runs per key (MAX_RUNS_PER_KEY)", () => {
  it("refuses a key's run beyond its cap with 429 too_many_runs on every surface, while other keys are served", async () => {
    const { url, upstream, brook } = await harness(
      { MAX_RUNS_PER_KEY: "1", MAX_CONCURRENT_RUNS: "10", BROOK_API_KEYS: "key-a,key-b" },
      { hang: true },
    );
    const a = { authorization: "Bearer key-a" };
    const holder = new AbortController();
    afterThisTest(() => holder.abort());
    const held = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { ...json, ...a },
      body: JSON.stringify({ message: "hold" }),
      signal: holder.signal,
    });
    expect(held.status).toBe(200);
    await until(() => upstream.requests.length === 1);

    for (const path of ["/chat/stream", "/chat"]) {
      const { response, body } = await post(url, path, { message: "one too many" }, a);
      expect(response.status).toBe(429);
      expect(response.headers.get("retry-after")).toBe("1");
      const error = ErrorBody.parse(body);
      expect(error).toMatchObject({ code: "too_many_runs", retryable: true });
      expect(error.error).toContain("MAX_RUNS_PER_KEY");
    }
    const error = await trpcFailure(
      createBrookClient({ url, apiKey: "key-a" }).trpc.chat.start.mutate({ message: "x" }),
    );
    expect(error.data).toMatchObject({ code: "TOO_MANY_REQUESTS", brook_code: "too_many_runs", retryable: true });
    const openai = await post(
      url,
      "/v1/chat/completions",
      { model: "m", messages: [{ role: "user", content: "x" }] },
      a,
    );
    expect(openai.response.status).toBe(429);
    expect(openai.body).toMatchObject({ error: { code: "too_many_runs" } });
    expect(upstream.requests).toHaveLength(1);

    // Another key has its own share.
    const other = new AbortController();
    afterThisTest(() => other.abort());
    const served = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { ...json, authorization: "Bearer key-b" },
      body: JSON.stringify({ message: "mine" }),
      signal: other.signal,
    });
    expect(served.status).toBe(200);
    await until(() => upstream.requests.length === 2);

    // Once the held run ends, the key runs again.
    holder.abort();
    await until(() => brook.services.control.activeCount === 1);
    upstream.setBehavior({});
    expect((await post(url, "/chat", { message: "again" }, a)).response.status).toBe(200);
  });
});
