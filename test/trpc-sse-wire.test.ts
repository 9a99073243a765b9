/**
 * Brook writes the SSE streams of `chat.stream` and `chat.events` itself (TRPC_SSE_FAST_PATH);
 * these tests record the raw responses of the same deterministic runs served by tRPC's own
 * adapter and by that fast path, and require them to be the same bytes, headers included,
 * once run ids and timings are set aside.
 */
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { type FakeBehavior, type Harness, serverTerminal } from "./support/brook-harness.js";
import { harness } from "./support/per-test.js";

interface RawResponse {
  status: number;
  /** How many pieces the body arrived in (HTTP chunks); not compared. */
  pieces?: number;
  /** Header lines as sent, in order, without `date`. */
  headers: string[];
  body: string;
}

/** A GET as an EventSource would send it, read to the end with nothing parsed. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { accept: "text/event-stream", ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const pairs: string[] = [];
        const raw = response.rawHeaders;
        for (let index = 0; index < raw.length; index += 2) {
          if (raw[index]?.toLowerCase() !== "date") pairs.push(`${raw[index]}: ${raw[index + 1]}`);
        }
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: response.statusCode ?? 0, headers: pairs, body, pieces: chunks.length });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

function subscriptionUrl(base: string, path: string, input: unknown, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  if (input !== undefined) params.set("input", typeof input === "string" ? input : JSON.stringify(input));
  return `${base}/trpc/${path}?${params.toString()}`;
}

/** Run ids (UUIDs) become RUN; timings, which differ between any two runs, become 0. */
function normalized(response: RawResponse): RawResponse {
  const body = response.body
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "RUN")
    .replace(/"(ttft_ms|duration_ms|tokens_per_s|reasoning_ms)":[0-9.e+-]+/g, '"$1":0');
  // The rate limit's reset is in whole seconds from now: two servers may be a second apart.
  const headers = response.headers.map((line) => line.replace(/^(x-ratelimit-reset|retry-after): \d+$/, "$1: N"));
  return { status: response.status, headers, body };
}

/** The same Brook twice: tRPC's adapter answers one, the fast path the other. */
async function pair(env: Record<string, string> = {}, behavior: FakeBehavior = {}) {
  const [adapter, fast] = await Promise.all([
    harness({ ...env, TRPC_SSE_FAST_PATH: "false" }, behavior),
    harness({ ...env, TRPC_SSE_FAST_PATH: "true" }, behavior),
  ]);
  return { adapter, fast };
}

/** Runs `exchange` against both servers and expects the same normalized response from each. */
async function expectSameWire(
  servers: { adapter: Harness; fast: Harness },
  exchange: (server: Harness) => Promise<RawResponse>,
): Promise<RawResponse & { pieceCounts: { adapter?: number; fast?: number } }> {
  const adapter = await exchange(servers.adapter);
  const fast = await exchange(servers.fast);
  const viaFastPath = normalized(fast);
  expect(viaFastPath).toEqual(normalized(adapter));
  return { ...viaFastPath, pieceCounts: { adapter: adapter.pieces, fast: fast.pieces } };
}

/** The SSE blocks of a body: tRPC ends each with a blank line plus one more newline. */
function blocks(body: string): string[] {
  return body.split("\n\n\n").filter((block) => block !== "");
}

describe("tRPC SSE fast path: the same bytes as tRPC's adapter", () => {
  it("streams a complete run: connected, tracked events, return", async () => {
    const servers = await pair({}, { chunks: ["Hel", "lo, ", "wörld", " 👋"] });
    const wire = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "greet me", system_prompt: "Be kind." })),
    );
    expect(wire.status).toBe(200);
    expect(wire.headers).toEqual(
      expect.arrayContaining(["content-type: text/event-stream", "vary: trpc-accept, accept"]),
    );
    const parts = blocks(wire.body);
    expect(parts[0]).toBe('event: connected\ndata: {"reconnectAfterInactivityMs":20000}');
    expect(parts[1]).toMatch(/^data: \{"type":"start",.*\}\nid: RUN:0$/);
    expect(parts.filter((part) => part.includes('"type":"content"'))).toHaveLength(4);
    expect(parts.at(-2)).toMatch(/^data: \{"type":"complete",.*\}\nid: RUN:5$/);
    expect(parts.at(-1)).toBe("event: return\ndata: ");
  });

  it("streams a reasoning model's run: its reasoning events, then content, then complete with full_reasoning", async () => {
    const servers = await pair({}, { reasoning: ["Thinking ", "it «over»…\n"], chunks: ["Yes", "."] });
    const wire = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "think first", reasoning_effort: "low" })),
    );
    const parts = blocks(wire.body);
    expect(parts[2]).toBe('data: {"type":"reasoning","chunk":"Thinking "}\nid: RUN:1');
    expect(parts[3]).toBe('data: {"type":"reasoning","chunk":"it «over»…\\n"}\nid: RUN:2');
    expect(parts.filter((part) => part.includes('"type":"content"'))).toHaveLength(2);
    expect(parts.at(-2)).toMatch(
      /^data: \{"type":"complete",.*"full_reasoning":"Thinking it «over»…\\n".*"reasoning_ms":0.*\}\nid: RUN:5$/,
    );
  });

  it("streams a run whose upstream fails after some tokens: the error event, then return", async () => {
    const servers = await pair({}, { tokens: 6, cutAfter: 3, delayMs: 5 });
    const wire = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "cut me off" })),
    );
    const parts = blocks(wire.body);
    expect(parts.filter((part) => part.includes('"type":"content"'))).toHaveLength(3);
    expect(parts.at(-2)).toMatch(/^data: \{"type":"error",.*"code":"upstream_incomplete".*\}\nid: RUN:4$/);
    expect(parts.at(-1)).toBe("event: return\ndata: ");
  });

  it("resumes after lastEventId (input, query and header) in chat.events and chat.stream", async () => {
    const servers = await pair({}, { tokens: 5 });
    const started = new Map<Harness, string>();
    for (const server of [servers.adapter, servers.fast]) {
      const response = await fetch(`${server.url}/trpc/chat.start`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "resume me" }),
      });
      const body = (await response.json()) as { result: { data: { run_id: string } } };
      started.set(server, body.result.data.run_id);
      await serverTerminal(server.brook, body.result.data.run_id);
    }
    const runOf = (server: Harness) => started.get(server) ?? "";

    // The whole run, then the rest after seq 2 in each way the link and EventSource send it.
    const whole = await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.events", { run_id: runOf(server) })),
    );
    // The events of a finished run are all ready: the fast path sends them in one write.
    expect(whole.pieceCounts.fast).toBeLessThanOrEqual(2);
    const viaInput = await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.events", { run_id: runOf(server), lastEventId: `${runOf(server)}:2` })),
    );
    expect(blocks(viaInput.body)[1]).toMatch(/\nid: RUN:3$/);
    await expectSameWire(servers, (server) =>
      rawGet(
        subscriptionUrl(server.url, "chat.events", { run_id: runOf(server) }, { lastEventId: `${runOf(server)}:2` }),
      ),
    );
    const viaHeader = await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.stream", { message: "ignored on resume" }), {
        "last-event-id": `${runOf(server)}:4`,
      }),
    );
    expect(blocks(viaHeader.body)[1]).toMatch(/\nid: RUN:5$/);
    // The header wins over the query parameter; a lastEventId of another run is refused.
    await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.events", { run_id: runOf(server) }, { lastEventId: "x:1" }), {
        "last-event-id": `${runOf(server)}:1`,
      }),
    );
    const otherRun = await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.events", { run_id: runOf(server), lastEventId: "other-run:1" })),
    );
    expect(blocks(otherRun.body)[1]).toContain('"code":"BAD_REQUEST"');
    // A position the run never reached.
    await expectSameWire(servers, (server) =>
      rawGet(subscriptionUrl(server.url, "chat.events", { run_id: runOf(server), lastEventId: `${runOf(server)}:99` })),
    );
  });

  it("refuses bad input the same way: as a serialized-error event, or tRPC's JSON 400", async () => {
    const servers = await pair();
    const cases: [path: string, input: unknown, extra?: Record<string, string>][] = [
      ["chat.stream", { message: 42 }],
      ["chat.stream", { message: "   " }],
      ["chat.stream", { message: "hi", temperature: 7, max_tokens: -1 }],
      ["chat.stream", "{not json"],
      ["chat.stream", undefined],
      ["chat.stream", { message: "hi", lastEventId: "not-an-event-id" }],
      ["chat.events", { run_id: 7 }],
      ["chat.events", [1, 2]],
      // Connection parameters that are not an object of strings fail before the stream: JSON 400.
      ["chat.stream", { message: "hi" }, { connectionParams: '{"authorization":1}' }],
      ["chat.stream", { message: "hi" }, { connectionParams: "{oops" }],
      // A batch of a subscription, which tRPC refuses.
      ["chat.stream", { 0: { message: "hi" } }, { batch: "1" }],
    ];
    const seen: RawResponse[] = [];
    for (const [path, input, extra] of cases) {
      seen.push(await expectSameWire(servers, ({ url }) => rawGet(subscriptionUrl(url, path, input, extra))));
    }
    expect(blocks(seen[0]?.body ?? "")[1]).toMatch(
      /^event: serialized-error\ndata: \{"message":"Invalid request: message: .*","code":-32600,"data":\{"code":"BAD_REQUEST","httpStatus":400,"path":"chat.stream","brook_code":"bad_request"/,
    );
    expect(seen[8]?.status).toBe(400);
    expect(seen[8]?.body).toContain('"message":"Invalid connection params shape"');
    expect(seen[10]?.status).toBe(400);
    expect(seen[10]?.body).toContain('"message":"Cannot batch subscription calls"');
    expect(servers.adapter.upstream.requests).toHaveLength(0);
    expect(servers.fast.upstream.requests).toHaveLength(0);
  });

  it("refuses a caller without the API key, and serves one with it in the header or connectionParams", async () => {
    const key = "wire-test-key";
    const servers = await pair({ BROOK_API_KEYS: key }, { tokens: 2 });
    const refused = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "let me in" })),
    );
    expect(blocks(refused.body)[1]).toContain('"code":"UNAUTHORIZED"');
    await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "let me in" }), { authorization: "Bearer wrong" }),
    );
    await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "bad input, no key" }, { connectionParams: "{}" })),
    );
    const withHeader = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "let me in" }), { authorization: `Bearer ${key}` }),
    );
    expect(blocks(withHeader.body).at(-1)).toBe("event: return\ndata: ");
    const withParams = await expectSameWire(servers, ({ url }) =>
      rawGet(
        subscriptionUrl(
          url,
          "chat.stream",
          { message: "let me in" },
          { connectionParams: JSON.stringify({ authorization: `Bearer ${key}` }) },
        ),
      ),
    );
    expect(blocks(withParams.body).at(-1)).toBe("event: return\ndata: ");
  });

  it("answers an unknown run, a full server and a draining one the same way", async () => {
    const servers = await pair({ MAX_CONCURRENT_RUNS: "1" }, { hang: true });
    const unknown = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.events", { run_id: "no-such-run" })),
    );
    expect(blocks(unknown.body)[1]).toContain('"brook_code":"not_found"');

    // One run hangs upstream and fills the only slot; the next is refused as overloaded.
    for (const server of [servers.adapter, servers.fast]) {
      await fetch(`${server.url}/trpc/chat.start`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hang" }),
      });
    }
    const overloaded = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "one more" })),
    );
    expect(blocks(overloaded.body)[1]).toContain('"brook_code":"overloaded"');

    for (const server of [servers.adapter, servers.fast]) server.brook.services.control.drain();
    const draining = await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.stream", { message: "too late" })),
    );
    expect(blocks(draining.body)[1]).toContain('"brook_code":"shutdown"');
  });

  it("sends the rate limit's headers on streams, and its refusal, the same way", async () => {
    const servers = await pair({ RATE_LIMIT_RPM: "3" }, { tokens: 2 });
    const seen: RawResponse[] = [];
    for (let count = 0; count < 4; count += 1) {
      seen.push(
        await expectSameWire(servers, ({ url }) =>
          rawGet(subscriptionUrl(url, "chat.stream", { message: "limit me" })),
        ),
      );
    }
    expect(seen[0]?.headers).toContain("x-ratelimit-remaining: 2");
    expect(seen[3]?.status).toBe(429);
    expect(seen[3]?.body).toContain('"brook_code":"rate_limited"');
  });

  it("leaves HEAD, POST and CORS preflight of the subscription paths to tRPC and Fastify", async () => {
    const servers = await pair({ CORS_ORIGINS: "https://app.example" });
    for (const method of ["HEAD", "POST", "OPTIONS"]) {
      await expectSameWire(servers, ({ url }) =>
        fetch(subscriptionUrl(url, "chat.stream", { message: "hi" }), {
          method,
          headers: { origin: "https://app.example", "access-control-request-method": "GET" },
        }).then(async (response) => ({
          status: response.status,
          headers: [...response.headers]
            .filter(([name]) => name !== "date")
            .map(([name, value]) => `${name}: ${value}`),
          body: await response.text(),
        })),
      );
    }
    // A listed origin's GET gets the same CORS headers on the stream; another origin is refused.
    await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.events", { run_id: "none" }), { origin: "https://app.example" }),
    );
    await expectSameWire(servers, ({ url }) =>
      rawGet(subscriptionUrl(url, "chat.events", { run_id: "none" }), { origin: "https://evil.example" }),
    );
  });
});
