/**
 * Preloaded into the Brook process the benchmark starts (`--import`): answers the benchmark's
 * questions over the IPC channel (memory after a full GC, CPU time) and records CPU profiles on
 * request. Nothing is exposed over HTTP, and Brook's own code is not touched.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

export type ProbeQuestion =
  | { type: "memory"; gc: boolean }
  | { type: "cpu" }
  | { type: "profile-start" }
  | { type: "profile-stop"; path: string };

export type ProbeRequest = ProbeQuestion & { id: number };

export interface ProbeMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

let session: Session | undefined;

async function answer(request: ProbeRequest): Promise<unknown> {
  switch (request.type) {
    case "memory": {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (request.gc && gc !== undefined) {
        // Twice: the first pass may only queue finalizers.
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
      return { rss, heapUsed, heapTotal, external, arrayBuffers } satisfies ProbeMemory;
    }
    case "cpu":
      return process.cpuUsage();
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
      writeFileSync(request.path, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      return true;
    }
  }
}

if (process.send !== undefined) {
  process.on("message", (request: ProbeRequest) => {
    answer(request).then(
      (value) => process.send?.({ id: request.id, value }),
      (error: unknown) => process.send?.({ id: request.id, error: String(error) }),
    );
  });
  // The IPC channel must not keep Brook alive on its own.
  process.channel?.unref();
}
