import { randomUUID } from "node:crypto";
import type { Backend, BackendOptions, RunLog, RunLogOptions, RunLogReader } from "@brook/server";
import type { ChatEvent } from "@brook/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { completeEvent, content, usage } from "./chat-events.js";

/** Two instances of one backend: runs are produced on `producer` and read on `reader`. */
export interface RunStorePair {
  producer: Backend;
  /** Another instance sharing `producer`'s state; `producer` itself for a backend that shares nothing. */
  reader: Backend;
  /** Ends the producing instance without ending its runs, as a crash would (backends with leases). */
  crash?(): Promise<void>;
}

export interface RunStoreContractOptions {
  /** The backend's producers hold leases: a run whose producer vanished ends as `interrupted`. */
  leases: boolean;
}

/** What each pair is built from: the backend options every backend takes. */
export type RunStoreFactory = (options: BackendOptions) => Promise<RunStorePair>;

const complete = completeEvent("abcde");
const run: readonly ChatEvent[] = [content("a"), content("b"), content("c"), content("d"), content("e"), complete];
const resumable: RunLogOptions = { bufferEvents: 64, resumable: true };

/** Reads from `reader` until its terminal event: every event with its seq. */
async function readToEnd(reader: RunLogReader, signal = AbortSignal.timeout(10_000)): Promise<[number, ChatEvent][]> {
  const events: [number, ChatEvent][] = [];
  try {
    while (!reader.done) {
      const seq = reader.position;
      const batch = await reader.read(Number.POSITIVE_INFINITY, signal);
      for (const [index, event] of batch.entries()) events.push([seq + index, event]);
    }
  } finally {
    reader.close();
  }
  return events;
}

/**
 * The `RunStore` contract: what every backend's runs must do, run against each implementation
 * (memory, Redis…) with a factory of two instances. A new backend passes it before Brook uses it.
 */
export function runStoreContract(name: string, factory: RunStoreFactory, contract: RunStoreContractOptions): void {
  describe(`RunStore contract: ${name}`, () => {
    const pairs: RunStorePair[] = [];
    const pair = async (options: Partial<BackendOptions> = {}) => {
      const made = await factory({
        instanceId: `contract-${randomUUID().slice(0, 8)}`,
        retention: { retentionMs: 60_000, retainMax: 100 },
        maxRunMs: 0,
        maxConcurrentRuns: 10,
        activeRuns: () => 0,
        log: { info: () => {}, warn: () => {} },
        ...options,
      });
      pairs.push(made);
      return made;
    };
    /** The run as readers elsewhere see it, once it is visible there. */
    const findElsewhere = async ({ reader }: RunStorePair, runId: string): Promise<RunLog> => {
      const log = await reader.store.find(runId);
      if (log === undefined) throw new Error(`run ${runId} is not found on the reading instance`);
      return log;
    };

    afterEach(async () => {
      for (const { producer, reader } of pairs.splice(0)) {
        await producer.close();
        if (reader !== producer) await reader.close();
      }
    });

    it("hands out a run's batches in order, seq by seq, with one terminal event at the end", async () => {
      const stores = await pair();
      const runId = randomUUID();
      const writer = stores.producer.store.create(runId, resumable);
      await writer.visible;
      writer.append(run.slice(0, 2));
      writer.append(run.slice(2, 3));
      writer.append(run.slice(3));
      const local = await readToEnd(writer.reader(0));
      const elsewhere = await readToEnd((await findElsewhere(stores, runId)).reader(0));
      const expected = run.map((event, seq) => [seq, event]);
      expect(local).toEqual(expected);
      expect(elsewhere).toEqual(expected);
      expect(writer.head).toBe(run.length);
      expect(writer.terminal).toEqual(complete);
      // Nothing follows the terminal event.
      expect(() => writer.append([content("late")])).toThrow();
      await vi.waitFor(async () => expect((await findElsewhere(stores, runId)).terminal).toEqual(complete));
    });

    it("wakes a reader that caught up as soon as new events are appended", async () => {
      const stores = await pair();
      const runId = randomUUID();
      const writer = stores.producer.store.create(runId, resumable);
      await writer.visible;
      writer.append([content("a")]);
      const reader = (await findElsewhere(stores, runId)).reader(0);
      const signal = AbortSignal.timeout(10_000);
      expect(await reader.read(10, signal)).toEqual([content("a")]);
      const waiting = reader.read(10, signal);
      writer.append([content("b"), content("c")]);
      expect(await waiting).toEqual([content("b"), content("c")]);
      writer.append([complete]);
      expect(await readToEnd(reader)).toEqual([[3, complete]]);
    });

    it("resumes from any seq, during the run and after it", async () => {
      const stores = await pair();
      const runId = randomUUID();
      const writer = stores.producer.store.create(runId, resumable);
      await writer.visible;
      writer.append(run.slice(0, 3));
      const midway = (await findElsewhere(stores, runId)).reader(2);
      writer.append(run.slice(3));
      expect(await readToEnd(midway)).toEqual(run.slice(2).map((event, index) => [2 + index, event]));
      for (let seq = 0; seq <= run.length; seq += 1) {
        const reader = (await findElsewhere(stores, runId)).reader(seq);
        const events = seq === run.length ? [] : await readToEnd(reader);
        reader.close();
        expect(events).toEqual(run.slice(seq).map((event, index) => [seq + index, event]));
      }
      // A seq the run has not reached is refused.
      expect(() => writer.reader(run.length + 1)).toThrow();
    });

    it("resumes elsewhere right after the producer's last event, before the backend may have it: every later event, once", async () => {
      const stores = await pair();
      const runId = randomUUID();
      const writer = stores.producer.store.create(runId, resumable);
      await writer.visible;
      // A reader on the producing instance saw seq 2 as soon as it was appended, and resumes elsewhere.
      writer.append(run.slice(0, 3));
      expect(writer.reader(0).take(10)).toEqual(run.slice(0, 3));
      const resumed = (await findElsewhere(stores, runId)).reader(3);
      writer.append(run.slice(3, 5));
      const reading = readToEnd(resumed);
      writer.append(run.slice(5));
      expect(await reading).toEqual(run.slice(3).map((event, index) => [3 + index, event]));
    });

    it("rejects a waiting read when its signal aborts", async () => {
      const stores = await pair();
      const writer = stores.producer.store.create(randomUUID(), resumable);
      await writer.visible;
      const controller = new AbortController();
      const reading = (await findElsewhere(stores, writer.runId)).reader(0).read(10, controller.signal);
      controller.abort(new Error("left"));
      await expect(reading).rejects.toThrow("left");
    });

    it("makes the producer wait while its slowest reader lags a whole buffer behind", async () => {
      const stores = await pair();
      const writer = stores.producer.store.create(randomUUID(), { bufferEvents: 3, resumable: true });
      await writer.visible;
      const reader = writer.reader(0);
      expect(writer.append([content("a")])).toBe(true);
      expect(writer.append([content("b")])).toBe(true);
      expect(writer.append([content("c")])).toBe(false);
      let roomy = false;
      const room = writer.waitForRoom(AbortSignal.timeout(10_000)).then(() => {
        roomy = true;
      });
      expect(writer.producerWaiting).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(roomy).toBe(false);
      expect(reader.take(10)).toHaveLength(3);
      await room;
      expect(writer.producerWaiting).toBe(false);
      // The terminal event is always taken, whatever the bounds.
      writer.append([content("d"), content("e"), content("f")]);
      writer.append([complete]);
      expect(writer.terminal).toEqual(complete);
      reader.close();
    });

    it("keeps an ended run readable for the retention time, then forgets it", async () => {
      const stores = await pair({ retention: { retentionMs: 300, retainMax: 100 } });
      const runId = randomUUID();
      const writer = stores.producer.store.create(runId, resumable);
      await writer.visible;
      writer.append(run);
      stores.producer.store.ended(runId, true);
      // A late reader, on either instance, still reads the whole run.
      expect(await readToEnd((await findElsewhere(stores, runId)).reader(0))).toHaveLength(run.length);
      const found = await stores.producer.store.find(runId);
      expect(found?.terminal).toEqual(complete);
      await vi.waitFor(
        async () => {
          expect(await stores.producer.store.find(runId)).toBeUndefined();
          expect(await stores.reader.store.find(runId)).toBeUndefined();
        },
        { timeout: 5_000, interval: 50 },
      );
    });

    it("tells the producer when the run goes from no reader to some, on any instance, and back", async () => {
      const stores = await pair();
      const writer = stores.producer.store.create(randomUUID(), resumable);
      await writer.visible;
      const presence: boolean[] = [];
      writer.onPresence((present) => presence.push(present));
      writer.append([content("a")]);
      const reader = (await findElsewhere(stores, writer.runId)).reader(0);
      await vi.waitFor(() => expect(presence).toEqual([true]), { timeout: 5_000 });
      reader.close();
      await vi.waitFor(() => expect(presence).toEqual([true, false]), { timeout: 5_000 });
    });

    if (contract.leases) {
      it("ends a run whose producer vanished with one interrupted event, with the usage it last noted", async () => {
        const stores = await pair();
        const writer = stores.producer.store.create(randomUUID(), resumable);
        await writer.visible;
        writer.append(run.slice(0, 2));
        writer.noteUsage?.(usage);
        const reader = (await findElsewhere(stores, writer.runId)).reader(0);
        await stores.crash?.();
        const events = await readToEnd(reader);
        expect(events.slice(0, 2)).toEqual(run.slice(0, 2).map((event, seq) => [seq, event]));
        expect(events).toHaveLength(3);
        expect(events[2]).toMatchObject([2, { type: "error", code: "interrupted", usage: { output_tokens: 2 } }]);
      });
    }
  });
}
