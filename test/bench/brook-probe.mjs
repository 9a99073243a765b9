/**
 * Preloaded into the Brook process the benchmark starts (`--import`): answers the benchmark's
 * questions over the IPC channel (memory after a full GC, CPU time) and records CPU profiles and
 * heap snapshots on request. Nothing is exposed over HTTP, and Brook's own code is not touched. Plain JavaScript,
 * so that Brook runs from its build with no loader.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { writeHeapSnapshot } from "node:v8";

/** @type {Session | undefined} */
let session;

/** @param {{ type: string, gc?: boolean, path?: string }} request */
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
      return { rss, heapUsed, heapTotal, external, arrayBuffers };
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
