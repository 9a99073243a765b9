/**
 * What an idle open stream holds in Brook: starts Brook (its build, with the benchmark's probe)
 * against a model server that sends one token and then stays silent (`[stall]`), takes a heap
 * snapshot with no stream open and one with N open (each past its first token), and prints the
 * difference by constructor per stream, with RSS and heap per stream after a full GC.
 *
 *   node --import tsx test/bench/open-streams-heap.ts [--streams=500] [--top=40] [--path=rest|trpc|aisdk|openai] [--keep] [--source]
 *
 * Build first (`pnpm build`), or pass `--source` to run from sources through tsx, whose
 * `keepNames` gives many functions a property array of their own (~6 KB more per stream).
 * Snapshots go to test/bench/profiles/ (kept with `--keep`, for DevTools' Comparison view).
 */
import { mkdirSync, rmSync } from "node:fs";
import { Agent, type ClientRequest, request } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startMisbehavingUpstream } from "../support/misbehaving-upstream.js";
import { raiseFileLimit, startBrook } from "./bench-processes.js";
import { diffGroups, formatDifference, groupSnapshot } from "./heap-diff.js";

type StreamPath = "rest" | "trpc" | "aisdk" | "openai";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "500" },
    top: { type: "string", default: "40" },
    path: { type: "string", default: "rest" },
    keep: { type: "boolean", default: false },
    source: { type: "boolean", default: false },
  },
});
const streams = Number(values.streams);
const path = values.path as StreamPath;
const profiles = fileURLToPath(new URL("./profiles/", import.meta.url));
mkdirSync(profiles, { recursive: true });
raiseFileLimit(streams * 3 + 1_000);

const upstream = await startMisbehavingUpstream();
const brook = await startBrook(upstream.url, values.source ? "source" : "build", {
  // Silent streams must stay open while they are counted.
  IDLE_TIMEOUT_MS: "600000",
  SSE_PING_MS: "600000",
});
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

/** Opens one stream and resolves once its first content arrived; `close()` leaves. */
function openStream(index: number): Promise<ClientRequest> {
  const message = `[stall] stream ${index}`;
  const target: Record<StreamPath, { url: string; body?: string }> = {
    rest: { url: "/chat/stream", body: JSON.stringify({ message }) },
    trpc: { url: `/trpc/chat.stream?input=${encodeURIComponent(JSON.stringify({ message }))}` },
    aisdk: {
      url: "/api/chat",
      body: JSON.stringify({
        id: `heap-${index}`,
        messages: [{ id: "m", role: "user", parts: [{ type: "text", text: message }] }],
        trigger: "submit-message",
      }),
    },
    openai: {
      url: "/v1/chat/completions",
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: message }], stream: true }),
    },
  };
  const { url, body } = target[path];
  return new Promise((resolve, reject) => {
    const req = request(
      `${brook.url}${url}`,
      {
        method: body === undefined ? "GET" : "POST",
        agent,
        headers: body === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          if (text.includes("Thinking")) resolve(req);
        });
        res.on("error", () => {});
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function openMany(count: number, from: number): Promise<ClientRequest[]> {
  const opened: ClientRequest[] = [];
  // In waves, so that the machine's other work is not disturbed.
  for (let at = 0; at < count; at += 100) {
    const wave = Array.from({ length: Math.min(100, count - at) }, (_, index) => openStream(from + at + index));
    opened.push(...(await Promise.all(wave)));
  }
  return opened;
}

async function closeAll(opened: ClientRequest[]): Promise<void> {
  for (const req of opened) req.destroy();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
try {
  // Warm up: every module and lazy path a stream touches is loaded before the first snapshot.
  await closeAll(await openMany(50, 0));
  await closeAll(await openMany(50, 50));
  const idle = `${profiles}heap-0.heapsnapshot`;
  const open = `${profiles}heap-${streams}.heapsnapshot`;
  // Memory is read before any snapshot: writing one leaves its own native memory behind.
  const memoryBefore = await brook.memory(true, true);
  const opened = await openMany(streams, 1_000);
  const memoryAfter = await brook.memory(true, true);
  await brook.heapSnapshot(open);
  await closeAll(opened);
  // Brook closes the upstream side after the client left: give it time before the idle snapshot.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  await brook.heapSnapshot(idle);
  console.log(
    `${streams} open ${path} streams: ${kb((memoryAfter.rss - memoryBefore.rss) / streams)} RSS, ` +
      `${kb((memoryAfter.heapUsed - memoryBefore.heapUsed) / streams)} heap, ` +
      `${kb((memoryAfter.external - memoryBefore.external) / streams)} external per stream (after a full GC)`,
  );
  const perStream = (after = 0, before = 0) => kb((after - before) / streams);
  const spaces = Object.entries(memoryAfter.spaces ?? {})
    .map(([name, size]) => [name, perStream(size, memoryBefore.spaces?.[name])])
    .filter(([, size]) => size !== "0.00 KB");
  console.log(
    `  resident per stream: malloc heap ${perStream(memoryAfter.mallocHeap, memoryBefore.mallocHeap)}, ` +
      `other anonymous (V8 pages, large mallocs) ${perStream(memoryAfter.anonymous, memoryBefore.anonymous)}, ` +
      `file-backed ${perStream(memoryAfter.fileBacked, memoryBefore.fileBacked)}\n` +
      `  V8 spaces per stream: ${spaces.map(([name, size]) => `${name} ${size}`).join(", ")}`,
  );
  console.log(formatDifference(diffGroups(groupSnapshot(idle), groupSnapshot(open)), streams, Number(values.top)));
  if (!values.keep) {
    rmSync(idle);
    rmSync(open);
  }
} finally {
  agent.destroy();
  await brook.stop();
  await upstream.close();
}
