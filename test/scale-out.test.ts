import { createBrookClient } from "@brook/client";
import { type ChatEvent, readChatEvents, Stats } from "@brook/shared";
import { describe, expect, it, vi } from "vitest";
import { startBalancer } from "./support/balancer.js";
import { type BrookCluster, startCluster, untilRedisConnected } from "./support/brook-cluster.js";
import { contentOf, streamEvents, until } from "./support/brook-harness.js";
import type { FakeBehavior } from "./support/fake-upstream.js";
import { afterThisTest } from "./support/per-test.js";
import { spawnServer } from "./support/server-process.js";
import { fake } from "./support/sse-text.js";
import { fakeTokens, readTracked, type TrackedEvent } from "./support/trpc-reader.js";

async function cluster(count: number, env: Record<string, string> = {}, behavior: FakeBehavior = {}) {
  const started = await startCluster(count, env, behavior);
  afterThisTest(() => started.close());
  return started;
}

function trpc(url: string) {
  return createBrookClient({ url }).trpc;
}

/** Reads `chat.events` of a run on `url` to its end (or after `lastEventId`). */
function readRun(url: string, runId: string, lastEventId?: string) {
  const reading = readTracked((observer) =>
    trpc(url).chat.events.subscribe({ run_id: runId, ...(lastEventId === undefined ? {} : { lastEventId }) }, observer),
  );
  afterThisTest(() => reading.unsubscribe());
  return reading;
}

function types(events: readonly TrackedEvent[]): string[] {
  return events.map(({ event }) => event.type);
}

function terminalsOf(events: readonly TrackedEvent[]): ChatEvent[] {
  return events.map(({ event }) => event).filter((event) => event.type === "complete" || event.type === "error");
}

describe("several instances sharing a Redis", () => {
  it("streams a run started on one instance to a reader on another, from the first event to the last", async () => {
    const { instances, upstream } = await cluster(2, {}, { tokens: 20, delayMs: 5 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "share me" });
    const events = await readRun(b.url, run_id).done;
    expect(events.map(({ seq }) => seq)).toEqual(events.map((_, index) => index));
    expect(types(events)).toEqual(["start", ...Array(20).fill("content"), "complete"]);
    const complete = events.at(-1)?.event;
    expect(complete).toMatchObject({ type: "complete", full_content: contentOf(events.map(({ event }) => event)) });
    expect(upstream.requests).toHaveLength(1);
    // The producer serves its own readers from memory, with the same events.
    const local = await readRun(a.url, run_id).done;
    expect(local.map(({ event }) => event)).toEqual(events.map(({ event }) => event));
  });

  it("resumes on another instance after the last event seen, with no duplicate and one model call", async () => {
    const { instances, upstream } = await cluster(2, {}, { tokens: 30, delayMs: 10 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "resume me elsewhere" });
    const first = readTracked(
      (observer) => trpc(a.url).chat.events.subscribe({ run_id }, observer),
      (event, self) => {
        if (event.seq === 5) self.unsubscribe();
      },
    );
    await until(() => first.events.length >= 6);
    const last = first.events.at(-1) as TrackedEvent;
    const rest = await readRun(b.url, run_id, last.id).done;
    const all = [...first.events, ...rest];
    expect(all.map(({ seq }) => seq)).toEqual(all.map((_, index) => index));
    expect(terminalsOf(all)).toEqual([expect.objectContaining({ type: "complete" })]);
    expect(upstream.requests).toHaveLength(1);

    // GET /chat/stream resumes through Last-Event-ID on another instance too.
    const response = await fetch(`${b.url}/chat/stream?message=ignored`, {
      headers: { "last-event-id": `${run_id}:10` },
    });
    const resumed: string[] = [];
    for await (const { id } of readChatEvents(response.body as ReadableStream<Uint8Array>)) resumed.push(id ?? "");
    expect(resumed[0]).toBe(`${run_id}:11`);
    expect(resumed.at(-1)).toBe(`${run_id}:${all.length - 1}`);
    expect(upstream.requests).toHaveLength(1);
  });

  it("cancels from another instance: the producer aborts its model call", async () => {
    // The model hangs after two tokens and Brook never gives up on it by itself: only the cancel ends its call.
    const { instances, upstream } = await cluster(2, { IDLE_TIMEOUT_MS: "0" }, { tokens: 10, hangAfter: 2 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "stop me from elsewhere" });
    const reading = readRun(b.url, run_id);
    await until(() => reading.events.some(({ event }) => event.type === "content"));
    expect(await trpc(b.url).chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: true });
    const events = await reading.done;
    expect(terminalsOf(events)).toEqual([expect.objectContaining({ type: "error", code: "cancelled" })]);
    await until(() => upstream.abortedCount() === 1, 15_000);
    expect(await trpc(b.url).chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: false });
  });

  it("keeps a run whose readers are all on another instance going through the grace period", async () => {
    const { instances, upstream } = await cluster(2, { RUN_GRACE_MS: "300" }, { tokens: 40, delayMs: 25 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "read me from afar" });
    const events = await readRun(b.url, run_id).done;
    expect(terminalsOf(events)).toEqual([expect.objectContaining({ type: "complete" })]);
    expect(upstream.abortedCount()).toBe(0);
  });

  it("counts every instance's runs in /stats and stats.get, resets them for all, and keeps /metrics per instance", async () => {
    const { instances } = await cluster(2, {}, { tokens: 3 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    await trpc(a.url).stats.reset.mutate();
    const durations: number[] = [];
    for (const url of [a.url, a.url, b.url]) {
      durations.push((await trpc(url).chat.complete.mutate({ message: "count me" })).timing.duration_ms);
    }
    const streamed = (await streamEvents(b.url, { message: "me too" })).at(-1);
    if (streamed?.type !== "complete") throw new Error("the streamed run did not complete");
    durations.push(streamed.timing.duration_ms);
    await until(async () => (await trpc(a.url).stats.get.query()).requests.total === 4);
    const stats = Stats.parse(await (await fetch(`${b.url}/stats`)).json());
    expect(stats.requests).toMatchObject({ total: 4, streaming: 1, non_streaming: 3, succeeded: 4 });
    expect(stats.tokens.output).toBe(12);
    expect(stats.models["gpt-4o-mini"]?.requests).toBe(4);
    expect(stats.ttft_ms.count).toBe(4);
    // Percentiles by nearest rank over every instance's runs, exact while few: p50 of 4 is the 2nd.
    const sorted = durations.sort((x, y) => x - y);
    expect(stats.duration_ms).toEqual({ count: 4, p50: sorted[1], p90: sorted[3], p99: sorted[3] });
    const metrics = async (url: string) =>
      Number(
        /^brook_model_requests_total\{model="gpt-4o-mini"\} (\d+)$/m.exec(
          await (await fetch(`${url}/metrics`)).text(),
        )?.[1],
      );
    expect([await metrics(a.url), await metrics(b.url)]).toEqual([2, 2]);

    const reset = Stats.parse(await (await fetch(`${a.url}/reset-stats`, { method: "POST" })).json());
    expect(reset.requests.total).toBe(0);
    expect((await trpc(b.url).stats.get.query()).requests.total).toBe(0);
    expect(await metrics(b.url)).toBe(2);
  });

  it("sums the active runs of every instance", async () => {
    const { instances } = await cluster(2, {}, { hang: true });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    await trpc(a.url).chat.start.mutate({ message: "one" });
    await trpc(b.url).chat.start.mutate({ message: "two" });
    await trpc(b.url).chat.start.mutate({ message: "three" });
    await until(async () => (await trpc(a.url).stats.get.query()).active_runs === 3, 5_000);
    expect(a.brook.services.health().active_runs).toBe(1);
  });

  it("counts RATE_LIMIT_RPM across instances", async () => {
    const { instances } = await cluster(2, { RATE_LIMIT_RPM: "4" }, { tokens: 1 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const statuses: number[] = [];
    for (const url of [a.url, b.url, a.url, b.url, a.url, b.url]) {
      const response = await fetch(`${url}/chat`, { method: "POST", body: JSON.stringify({ message: "hi" }) });
      statuses.push(response.status);
      await response.text();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it("lets the typed client alternate between instances behind a balancer", async () => {
    const { instances, upstream } = await cluster(2, {}, { tokens: 12, delayMs: 5 });
    const ports = instances.map(({ url }) => Number(new URL(url).port));
    const balancer = await startBalancer(ports);
    afterThisTest(() => balancer.close());
    for (let run = 0; run < 3; run++) {
      const events: ChatEvent[] = [];
      for await (const event of createBrookClient({ url: balancer.url }).streamChat({ message: `run ${run}` })) {
        events.push(event);
      }
      expect(events.at(-1)).toMatchObject({ type: "complete" });
      expect(contentOf(events)).toBe(fakeTokens(12));
    }
    expect(new Set(balancer.chosen)).toEqual(new Set(ports));
    expect(upstream.requests).toHaveLength(3);
  });

  it("resumes and stops a useChat chat on another instance than the one that started it", async () => {
    const { instances, upstream } = await cluster(2, {}, { tokens: 40, delayMs: 15 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const chat = (id: string, text: string) =>
      JSON.stringify({
        id,
        trigger: "submit-message",
        messages: [{ id: `${id}-user`, role: "user", parts: [{ type: "text", text }] }],
      });
    // Sent to one instance, its connection dropped midway; resumed on the other, from the first chunk.
    const controller = new AbortController();
    const sent = await fetch(`${a.url}/api/chat`, {
      method: "POST",
      body: chat("shared-chat", "hi"),
      signal: controller.signal,
    });
    const reader = (sent.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    const resumed = await (await fetch(`${b.url}/api/chat/shared-chat/stream`)).text();
    const chunks = resumed.split("\n\n").filter((frame) => frame.startsWith("data: "));
    expect(chunks[0]).toMatch(/^data: \{"type":"start"/);
    expect(chunks.filter((frame) => frame.includes('"type":"text-delta"'))).toHaveLength(40);
    expect(chunks.at(-1)).toBe("data: [DONE]");
    expect(upstream.requests).toHaveLength(1);

    // Stopped on the other instance: the producer aborts its model call.
    const stopping = await fetch(`${a.url}/api/chat`, { method: "POST", body: chat("stopped-chat", "stop me") });
    const first = (stopping.body as ReadableStream<Uint8Array>).getReader();
    await first.read();
    expect((await fetch(`${b.url}/api/chat/stopped-chat/stop`, { method: "POST" })).status).toBeLessThan(300);
    await until(() => upstream.abortedCount() === 1, 2_000);
  });

  it("gives a reader elsewhere its run's end when the producing instance drains", async () => {
    const { instances } = await cluster(2, {}, { tokens: 100, delayMs: 20 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "drain me" });
    const reading = readRun(b.url, run_id);
    await until(() => reading.events.length >= 3);
    await a.brook.close({ drainMs: 100 });
    const events = await reading.done;
    expect(terminalsOf(events)).toEqual([expect.objectContaining({ type: "error", code: "shutdown" })]);
  });
});

describe("when an instance or Redis fails", () => {
  it("ends a run whose producer died (kill -9) with exactly one interrupted event, on a reader elsewhere", async () => {
    const { instances, redis, upstream } = await cluster(1, {}, { tokens: 200, delayMs: 20 });
    const [b] = instances as [BrookCluster["instances"][0]];
    const producer = spawnServer({
      PORT: "0",
      HOST: "127.0.0.1",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: upstream.url,
      REDIS_URL: redis.url,
      REDIS_LEASE_MS: "600",
      LOG_FORMAT: "json",
    });
    afterThisTest(() => producer.child.kill("SIGKILL"));
    const line = await producer.waitFor(/Server listening at/);
    const producerUrl = /listening at (http:\/\/[^"\s]+)/.exec(line)?.[1] ?? "";
    await producer.waitFor(/Redis connected/);
    const { run_id } = await trpc(producerUrl).chat.start.mutate({ message: "I will lose my producer" });
    const reading = readRun(b.url, run_id);
    await until(() => reading.events.filter(({ event }) => event.type === "content").length >= 3);
    producer.child.kill("SIGKILL");
    const killedAt = Date.now();
    const events = await reading.done;
    const terminals = terminalsOf(events);
    expect(terminals).toEqual([expect.objectContaining({ type: "error", code: "interrupted", retryable: true })]);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(events.map(({ seq }) => seq)).toEqual(events.map((_, index) => index));
    // A second reader, and a resume, see the same single end.
    const again = await readRun(b.url, run_id).done;
    expect(terminalsOf(again)).toEqual(terminals);
  });

  it("starts when Redis is down, says so in /health, and shares runs once Redis is up", async () => {
    const started = await cluster(1, {}, { tokens: 3 });
    const { redis } = started;
    await redis.stop();
    const a = await started.add();
    const [b] = started.instances as [BrookCluster["instances"][0]];
    const health = await (await fetch(`${a.url}/health`)).json();
    expect(health).toMatchObject({
      status: "ok",
      ready: false,
      redis: { status: expect.stringMatching(/^(connecting|unavailable)$/) },
    });
    expect((await fetch(`${a.url}/health/ready`)).status).toBe(503);
    await until(() => b.brook.services.health().redis?.status === "unavailable");
    // The shared statistics are out of reach: a clear 503, not stale or partial numbers.
    const stats = await fetch(`${a.url}/stats`);
    expect(stats.status).toBe(503);
    expect(await stats.json()).toMatchObject({ code: "unavailable", retryable: true });
    // Runs that belong to their request go on without Redis.
    const stream = await fetch(`${a.url}/chat/stream`, { method: "POST", body: JSON.stringify({ message: "alone" }) });
    expect(await stream.text()).toContain('"type":"complete"');

    await redis.start();
    await Promise.all([untilRedisConnected(a.brook, 10_000), untilRedisConnected(b.brook, 10_000)]);
    expect((await fetch(`${a.url}/health/ready`)).status).toBe(200);
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "shared again" });
    expect(terminalsOf(await readRun(b.url, run_id).done)).toEqual([expect.objectContaining({ type: "complete" })]);
  });

  it("keeps streaming to readers on the producer when Redis goes away mid-run; readers elsewhere get a clear end", async () => {
    const { instances, redis } = await cluster(2, {}, { tokens: 60, delayMs: 20 });
    const [a, b] = instances as [BrookCluster["instances"][0], BrookCluster["instances"][0]];
    const { run_id } = await trpc(a.url).chat.start.mutate({ message: "survive Redis" });
    const local = readRun(a.url, run_id);
    const remote = readRun(b.url, run_id);
    await until(() => remote.events.length >= 5);
    await redis.stop();
    const localEvents = await local.done;
    expect(terminalsOf(localEvents)).toEqual([expect.objectContaining({ type: "complete" })]);
    expect(types(localEvents).filter((type) => type === "content")).toHaveLength(60);
    const remoteEvents = await remote.done;
    expect(terminalsOf(remoteEvents)).toEqual([
      expect.objectContaining({
        type: "error",
        code: expect.stringMatching(/^(unavailable|interrupted)$/),
        retryable: true,
      }),
    ]);
    await redis.start();
    await Promise.all([untilRedisConnected(a.brook, 10_000), untilRedisConnected(b.brook, 10_000)]);

    // Back on Redis, each instance listens on its channel again: a cancel sent to the other one reaches the run.
    const again = await trpc(a.url).chat.start.mutate({ message: `after Redis ${fake({ hangAfter: 2 })}` });
    const reading = readRun(a.url, again.run_id);
    await until(() => reading.events.some(({ event }) => event.type === "content"));
    // Sent again until it lands: the subscriber's connection may come back a little after the commands'.
    await vi.waitFor(
      async () => {
        await trpc(b.url).chat.cancel.mutate({ run_id: again.run_id });
        expect(terminalsOf(reading.events)).toHaveLength(1);
      },
      { timeout: 10_000, interval: 300 },
    );
    expect(terminalsOf(await reading.done)).toEqual([expect.objectContaining({ type: "error", code: "cancelled" })]);
  });
});
