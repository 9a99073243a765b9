import { randomUUID } from "node:crypto";
import { type Backend, createRedisBackend, type RunLogReader, type RunLogWriter } from "@brook/server";
import type { ChatEvent } from "@brook/shared";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { completeEvent, content } from "./support/chat-events.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";

const complete = completeEvent("");
const resumable = { bufferEvents: 1_000, resumable: true };

let redis: RedisServer;
let watcher: Redis;
/** The heads published for a run's readers elsewhere, by run. */
const published = new Map<string, string[]>();
const backends: Backend[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  watcher = new Redis(redis.url);
  watcher.on("pmessage", (_pattern: string, channel: string, head: string) => {
    const runId = /\{([^}]+)\}/.exec(channel)?.[1] ?? "";
    published.set(runId, [...(published.get(runId) ?? []), head]);
  });
  await watcher.psubscribe("brook:{*}:notify");
});
afterAll(async () => {
  watcher?.disconnect();
  await redis?.close();
});
afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
});

/** An instance sharing the test's Redis; long leases, so no heartbeat wakes a reader that missed a notification. */
async function instance(mirrorWindowMs: number): Promise<Backend> {
  const backend = createRedisBackend({
    instanceId: `mirror-${randomUUID().slice(0, 8)}`,
    retention: { retentionMs: 60_000, retainMax: 100 },
    maxRunMs: 0,
    maxConcurrentRuns: 10,
    activeRuns: () => 0,
    log: { info: () => {}, warn: () => {} },
    url: redis.url,
    leaseMs: 60_000,
    mirrorWindowMs,
  });
  backends.push(backend);
  await vi.waitFor(() => expect(backend.state()?.status).toBe("connected"));
  return backend;
}

/** Script calls Redis has run (every run's appends go through one). */
async function scriptCalls(): Promise<number> {
  const stats = await redis.client.info("commandstats");
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

async function readToEnd(reader: RunLogReader): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  const signal = AbortSignal.timeout(5_000);
  while (!reader.done) events.push(...(await reader.read(100, signal)));
  reader.close();
  return events;
}

async function settledInRedis(writer: RunLogWriter, head: number): Promise<void> {
  await vi.waitFor(async () => expect(await redis.client.xlen(`brook:{${writer.runId}}:events`)).toBe(head));
}

describe("mirroring runs to Redis", () => {
  it("copies the events that come within the window in one call, and the terminal event at once", async () => {
    const producer = await instance(200);
    const writer = producer.store.create(randomUUID(), resumable);
    await writer.visible;
    const before = await scriptCalls();
    for (const chunk of "abcdefghij") writer.append([content(chunk)]);
    await settledInRedis(writer, 10);
    expect((await scriptCalls()) - before).toBe(1);
    const appendedAt = performance.now();
    writer.append([complete]);
    await settledInRedis(writer, 11);
    // Well inside the 200 ms window: the end did not wait for it.
    expect(performance.now() - appendedAt).toBeLessThan(150);
    expect((await scriptCalls()) - before).toBe(2);
  });

  it("publishes nothing while no reader on another instance follows the run, but its end", async () => {
    const producer = await instance(0);
    const writer = producer.store.create(randomUUID(), resumable);
    await writer.visible;
    for (const chunk of "abcde") {
      writer.append([content(chunk)]);
      await settledInRedis(writer, writer.head);
    }
    writer.append([complete]);
    await settledInRedis(writer, 6);
    // Messages come in order: once the end's is there, any before it would be too.
    await vi.waitFor(() => expect(published.get(writer.runId)).toContain("6"));
    expect(published.get(writer.runId)).toEqual(["6"]);
  });

  it("wakes a reader elsewhere for every batch once it follows, and stops when it leaves", async () => {
    const [producer, elsewhere] = [await instance(0), await instance(0)];
    const writer = producer.store.create(randomUUID(), resumable);
    await writer.visible;
    writer.append([content("a")]);
    await settledInRedis(writer, 1);
    const reader = (await elsewhere.store.find(writer.runId))?.reader(0) as RunLogReader;
    const signal = AbortSignal.timeout(5_000);
    expect(await reader.read(10, signal)).toEqual([content("a")]);
    writer.append([content("b")]);
    expect(await reader.read(10, signal)).toEqual([content("b")]);
    writer.append([content("c")]);
    expect(await reader.read(10, signal)).toEqual([content("c")]);
    await vi.waitFor(() => expect(published.get(writer.runId)).toEqual(["2", "3"]));
    reader.close();
    await vi.waitFor(async () => expect(await redis.client.exists(`brook:{${writer.runId}}:listeners`)).toBe(0));
    writer.append([content("d")]);
    await settledInRedis(writer, 4);
    // The end is always published: once it is seen, "d" would have been too (one connection, in order).
    writer.append([complete]);
    await vi.waitFor(() => expect(published.get(writer.runId)).toContain("5"));
    expect(published.get(writer.runId)).toEqual(["2", "3", "5"]);
  });

  it("gives a reader that comes elsewhere mid-run every event, without waiting for a heartbeat", async () => {
    // Readers join at every point of a run appended batch after batch: none misses a notification.
    for (const window of [0, 5]) {
      const [producer, elsewhere] = [await instance(window), await instance(window)];
      for (let joinAt = 0; joinAt < 6; joinAt += 1) {
        const writer = producer.store.create(randomUUID(), resumable);
        await writer.visible;
        const expected: ChatEvent[] = [];
        let reading: Promise<ChatEvent[]> | undefined;
        for (let seq = 0; seq < 6; seq += 1) {
          if (seq === joinAt) {
            await settledInRedis(writer, seq);
            const found = await elsewhere.store.find(writer.runId);
            reading = readToEnd(found?.reader(0) as RunLogReader);
          }
          const event = content(`${seq}`);
          expected.push(event);
          writer.append([event]);
          await new Promise((resolve) => setImmediate(resolve));
        }
        writer.append([complete]);
        expect(await reading).toEqual([...expected, complete]);
      }
    }
  });
});
