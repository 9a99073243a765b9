/**
 * Preloaded into the Brook process the benchmark starts (`--import`): answers the benchmark's
 * questions over the IPC channel (memory after a full GC, CPU time) and records CPU profiles and
 * heap snapshots on request. Nothing is exposed over HTTP, and Brook's own code is not touched. Plain JavaScript,
 * so that Brook runs from its build with no loader.
 *
 * With WORKERS above 1 the process the benchmark starts is node:cluster's primary, and the workers
 * it forks load this probe too (they inherit its flags): the primary then asks each worker over
 * the cluster's channel, and answers CPU time and memory summed over itself and every worker.
 * Profiles and heap snapshots are the primary's own.
 */
import cluster from "node:cluster";
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";

/**
 * Where the resident memory is: each V8 heap space's committed size, and the process's resident
 * anonymous memory split into malloc's heap (`[heap]`) and the other mappings (V8's pages, thread
 * stacks, large mallocs), from /proc/self/smaps.
 */
function detail() {
  /** @type {Record<string, number>} */
  const spaces = {};
  for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.physical_space_size;
  let mallocHeap = 0;
  let anonymous = 0;
  let fileBacked = 0;
  let name = "";
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header !== null) {
      name = header[2] === "" ? "" : header[2];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss === null) continue;
    const bytes = Number(rss[1]) * 1024;
    if (name === "[heap]") mallocHeap += bytes;
    else if (name === "" || name.startsWith("[anon")) anonymous += bytes;
    else fileBacked += bytes;
  }
  return { spaces, mallocHeap, anonymous, fileBacked };
}

/** @type {Session | undefined} */
let session;

/** Marks the probe's own messages between the primary and its workers, beside Brook's. */
const tag = "brook-probe";

/** @typedef {{ rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number }} Memory */

/**
 * This process's own figures.
 * @param {{ type: string, gc?: boolean, detail?: boolean }} request
 * @returns {Promise<Memory | NodeJS.CpuUsage>}
 */
async function own(request) {
  switch (request.type) {
    case "memory": {
      const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
      if (request.gc && gc !== undefined) {
        // Twice: the first pass may only queue finalizers.
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
      return { rss, heapUsed, heapTotal, external, arrayBuffers, ...(request.detail ? detail() : {}) };
    }
    case "cpu":
      return process.cpuUsage();
    default:
      throw new Error(`unknown probe request ${request.type}`);
  }
}

/** Workers that listen, by id: the benchmark waits for all of them before it measures. */
const listening = new Set();
cluster.on("listening", (worker) => listening.add(worker.id));
cluster.on("exit", (worker) => listening.delete(worker.id));

/** Questions out to workers, by id: whom each went to, and who waits for the answer. */
/** @type {Map<number, { worker: number, resolve: (value: unknown) => void }>} */
const fromWorkers = new Map();
let nextWorkerQuestion = 0;
cluster.on("message", (_worker, /** @type {any} */ message) => {
  if (message?.[tag] === undefined) return;
  fromWorkers.get(message[tag])?.resolve(message.value);
  fromWorkers.delete(message[tag]);
});
// A worker that exits before it answers counts for nothing (its CPU time goes with it).
cluster.on("exit", (worker) => {
  for (const [id, question] of fromWorkers) {
    if (question.worker !== worker.id) continue;
    fromWorkers.delete(id);
    question.resolve(undefined);
  }
});

/**
 * The workers' own figures (none when this process forked none).
 * @param {{ type: string, gc?: boolean }} request
 */
async function fromEachWorker(request) {
  const answers = await Promise.all(
    Object.values(cluster.workers ?? {}).map((worker) => {
      if (worker === undefined || !worker.isConnected()) return undefined;
      return new Promise((resolve) => {
        const id = nextWorkerQuestion++;
        fromWorkers.set(id, { worker: worker.id, resolve });
        worker.send({ [tag]: id, type: request.type, gc: request.gc });
      });
    }),
  );
  return answers.filter((value) => value !== undefined);
}

/** @param {{ type: string, gc?: boolean, detail?: boolean, path?: string }} request */
async function answer(request) {
  switch (request.type) {
    case "memory": {
      const mine = /** @type {Memory} */ (await own(request));
      const others = /** @type {Memory[]} */ (await fromEachWorker(request));
      // One process: its own figures, with the breakdown when asked for.
      if (others.length === 0) return mine;
      const all = [mine, ...others];
      /** @type {Memory} */
      const sum = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
      for (const memory of all) for (const key of Object.keys(sum)) sum[key] += memory[key];
      return sum;
    }
    case "cpu": {
      const all = /** @type {NodeJS.CpuUsage[]} */ ([await own(request), ...(await fromEachWorker(request))]);
      return all.reduce((sum, usage) => ({ user: sum.user + usage.user, system: sum.system + usage.system }), {
        user: 0,
        system: 0,
      });
    }
    case "processes":
      return {
        pids: [process.pid, ...Object.values(cluster.workers ?? {}).map((worker) => worker?.process.pid)].filter(
          (pid) => pid !== undefined,
        ),
        listening: listening.size,
      };
    case "heap-snapshot": {
      const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
      gc?.();
      await new Promise((resolve) => setImmediate(resolve));
      return writeHeapSnapshot(String(request.path));
    }
    case "profile-start":
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
      return true;
    case "profile-stop": {
      if (session === undefined) return false;
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(String(request.path), JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      return true;
    }
    default:
      throw new Error(`unknown probe request ${request.type}`);
  }
}

if (cluster.isWorker) {
  // A worker answers its primary's questions only; Brook's own messages are strings.
  process.on("message", (/** @type {any} */ message) => {
    if (message?.[tag] === undefined) return;
    own(message).then((value) => process.send?.({ [tag]: message[tag], value }));
  });
} else if (process.send !== undefined) {
  process.on("message", (/** @type {{ id: number, type: string }} */ request) => {
    answer(request).then(
      (value) => process.send?.({ id: request.id, value }),
      (error) => process.send?.({ id: request.id, error: String(error) }),
    );
  });
  // The IPC channel must not keep Brook alive on its own.
  process.channel?.unref();
  // The benchmark owns this process: when it goes (even killed, or a test timing out), so do we.
  process.once("disconnect", () => process.exit(0));
}
