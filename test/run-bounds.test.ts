/**
 * What a run may hold in memory, against a model server that never stops (`[endless]`): an
 * abandoned `/api/chat` run ends within its byte budget (RUN_MAX_BYTES) or its grace period
 * (RUN_GRACE_MS), and a client that never reads holds at most RUN_BUFFER_BYTES, with and without Redis.
 */
import { request as httpRequest } from "node:http";
import type { Brook, RunLogWriter } from "@brook/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { untilRedisConnected } from "./support/brook-cluster.js";
import { serverRun, serverTerminal, startTestBrook, until } from "./support/brook-harness.js";
import { type MisbehavingUpstream, startMisbehavingUpstream } from "./support/misbehaving-upstream.js";
import { afterThisTest } from "./support/per-test.js";
import { startRedisServer } from "./support/redis-server.js";

let upstream: MisbehavingUpstream;

beforeAll(async () => {
  upstream = await startMisbehavingUpstream();
});

afterAll(async () => {
  await upstream?.close();
});

async function brookWith(env: Record<string, string>): Promise<{ brook: Brook; url: string }> {
  const brook = await startTestBrook(upstream.url, env);
  afterThisTest(() => brook.close());
  return { brook, url: await brook.listen(0) };
}

const uiChat = (id: string, text: string) =>
  JSON.stringify({
    id,
    trigger: "submit-message",
    messages: [{ id: `${id}-user`, role: "user", parts: [{ type: "text", text }] }],
  });

/** Starts `/api/chat` answers, reads the first bytes of each, and leaves. Gives each chat's run id. */
async function abandonChats(brook: Brook, url: string, chatIds: readonly string[]): Promise<string[]> {
  return Promise.all(
    chatIds.map(async (chatId) => {
      const controller = new AbortController();
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: uiChat(chatId, "Go on forever [endless]"),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      await (response.body as ReadableStream<Uint8Array>).getReader().read();
      controller.abort();
      const runId = await brook.services.chatRuns.get(chatId);
      expect(runId).toBeDefined();
      return runId as string;
    }),
  );
}

describe("abandoned /api/chat runs against an endless model", () => {
  it("each keep at most RUN_MAX_BYTES, then end with run_too_large and their usage, and the replay says so", async () => {
    const maxBytes = 1_048_576;
    const { brook, url } = await brookWith({ RUN_MAX_BYTES: String(maxBytes), RUN_GRACE_MS: "60000" });
    const rssBefore = process.memoryUsage().rss;
    const chatIds = Array.from({ length: 5 }, (_, index) => `endless-${index}`);
    const runIds = await abandonChats(brook, url, chatIds);
    for (const runId of runIds) {
      const terminal = await serverTerminal(brook, runId, 15_000);
      expect(terminal).toMatchObject({ type: "error", code: "run_too_large", retryable: false });
      // The model never says what it used: Brook counts it, never zero.
      expect(terminal.usage).toMatchObject({ estimated: true });
      expect(terminal.usage.output_tokens).toBeGreaterThan(0);
      // The budget, and what one read of the model's stream brought over it.
      const kept = (await serverRun(brook, runId))?.keptBytes ?? 0;
      expect(kept).toBeGreaterThan(maxBytes);
      expect(kept).toBeLessThan(maxBytes + 256 * 1024);
    }
    // Five runs of 1 MiB each: nowhere near the gigabytes they grew to without a bound.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024);
    const replay = await (await fetch(`${url}/api/chat/${chatIds[0]}/stream`)).text();
    const frames = replay.split("\n\n").filter((frame) => frame.startsWith("data: "));
    expect(frames[0]).toMatch(/^data: \{"type":"start"/);
    expect(frames.filter((frame) => frame.includes('"type":"error"'))).toEqual([
      expect.stringMatching(/RUN_MAX_BYTES/),
    ]);
  });

  it("are cancelled, with their usage, when no reader comes back within RUN_GRACE_MS", async () => {
    // A budget the model cannot fill within the grace period: the grace period ends them.
    const { brook, url } = await brookWith({ RUN_MAX_BYTES: String(2 ** 30), RUN_GRACE_MS: "100" });
    const chatIds = Array.from({ length: 5 }, (_, index) => `graced-${index}`);
    const runIds = await abandonChats(brook, url, chatIds);
    for (const runId of runIds) {
      const terminal = await serverTerminal(brook, runId, 10_000);
      expect(terminal).toMatchObject({
        type: "error",
        code: "cancelled",
        error: expect.stringMatching(/reader went away/),
      });
      expect(terminal.usage.output_tokens).toBeGreaterThan(0);
    }
    await until(() => brook.services.control.activeCount === 0);
    // The replay ends once, with the run's end (the AI SDK's abort chunk for a cancelled run).
    const replay = await (await fetch(`${url}/api/chat/${chatIds[0]}/stream`)).text();
    expect(replay.match(/"type":"(abort|error|finish)"/g)).toEqual(['"type":"abort"']);
  });
});

/**
 * GETs `/chat/stream` (a resumable run: what Redis mode mirrors) and never reads past the first
 * bytes: the socket fills, and the run has to hold what the model goes on sending. Gives its run id.
 */
function neverReading(url: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/chat/stream?message=${encodeURIComponent(message)}`, (response) => {
      response.once("data", (chunk: Buffer) => {
        response.pause();
        const runId = /"run_id":"([^"]+)"/.exec(chunk.toString())?.[1];
        if (runId === undefined) reject(new Error(`no run id in ${chunk.toString()}`));
        else resolve(runId);
      });
    });
    request.on("error", reject);
    afterThisTest(() => request.destroy());
    request.end();
  });
}

describe.each(["memory", "redis"])("a client that never reads (%s)", (mode) => {
  it("holds at most RUN_BUFFER_BYTES ahead of it, however many events that is", async () => {
    const bufferBytes = 65_536;
    const env: Record<string, string> = {
      RUN_BUFFER_BYTES: String(bufferBytes),
      // Counted in events alone, the buffer would take a gigabyte of these.
      RUN_BUFFER_EVENTS: "1000000",
    };
    const redis = mode === "redis" ? await startRedisServer() : undefined;
    if (redis !== undefined) {
      afterThisTest(() => redis.close());
      env.REDIS_URL = redis.url;
    }
    const { brook, url } = await brookWith(env);
    if (redis !== undefined) await untilRedisConnected(brook);
    const runId = await neverReading(url, "Go on forever [endless]");
    // The producer's side of the run (this instance generates it).
    const log = (await serverRun(brook, runId)) as RunLogWriter;
    // The buffer fills, and generation waits (the model's stream is no longer read).
    await until(() => log.producerWaiting, 10_000);
    // What waited for Redis reaches it: only the buffer stays.
    if (redis !== undefined) await until(async () => (await redis.client.xlen(`brook:{${runId}}:events`)) === log.head);
    expect(log.keptBytes).toBeGreaterThanOrEqual(bufferBytes);
    // Ahead of the reader, plus a quarter behind it for a resume, plus one read of the model's stream over.
    expect(log.keptBytes).toBeLessThan(bufferBytes * 1.25 + 128 * 1024);
    expect(log.terminal).toBeUndefined();
  });
});
