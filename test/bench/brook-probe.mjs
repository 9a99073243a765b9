/**
 * Preloaded into the Brook process the benchmark starts (`--import`): answers the benchmark's
 * questions over the IPC channel (memory after a full GC, CPU time) and records CPU profiles and
 * heap snapshots on request. Nothing is exposed over HTTP, and Brook's own code is not touched. Plain JavaScript,
 * so that Brook runs from its build with no loader.
 */
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

/** @param {{ type: string, gc?: boolean, detail?: boolean, path?: string }} request */
async function answer(request) {
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

if (process.send !== undefined) {
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
