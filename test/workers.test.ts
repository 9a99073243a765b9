import { Agent, type IncomingMessage, request } from "node:http";
import { Readable } from "node:stream";
import { type ChatEvent, Health, parseEventId, readChatEvents } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "./support/brook-harness.js";
import { type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";
import { type ServerProcess, spawnServer } from "./support/server-process.js";
import { fake, sseData } from "./support/sse-text.js";

/** One keep-alive connection to Brook, and the worker that serves it. */
interface Connection {
  worker: number;
  /** A request on this same connection (never a new one, which may reach another worker). */
  send(
    method: string,
    path: string,
    options?: { headers?: Record<string, string>; body?: unknown },
  ): Promise<IncomingMessage>;
  close(): void;
}

function send(
  agent: Agent | false,
  url: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: unknown } = {},
  reuse = false,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const sent = request(new URL(path, url), {
      agent,
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    });
    sent.once("error", reject);
    sent.once("response", (response) => {
      if (reuse && !sent.reusedSocket) reject(new Error(`${method} ${path} went out on a new connection`));
      else resolve(response);
    });
    sent.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function text(response: IncomingMessage): Promise<string> {
  let all = "";
  for await (const chunk of response) all += String(chunk);
  return all;
}

/** Health over a new connection, closed after the answer. */
async function healthOnNewConnection(url: string): Promise<Health> {
  return Health.parse(JSON.parse(await text(await send(false, url, "GET", "/health"))));
}

/** New connections until one reaches a worker that `wanted` accepts (the kernel and the primary choose). */
async function connect(url: string, wanted: (worker: number) => boolean = () => true): Promise<Connection> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const health = Health.parse(JSON.parse(await text(await send(agent, url, "GET", "/health"))));
    if (health.worker !== undefined && wanted(health.worker)) {
      return {
        worker: health.worker,
        send: (method, path, options) => send(agent, url, method, path, options, true),
        close: () => agent.destroy(),
      };
    }
    agent.destroy();
  }
  throw new Error("no new connection reached the wanted worker in 20 attempts");
}

function events(response: IncomingMessage) {
  return readChatEvents(Readable.toWeb(response) as ReadableStream<Uint8Array>);
}

function streamPath(message: string): string {
  return `/chat/stream?message=${encodeURIComponent(message)}`;
}

/** The worker pids the primary announced (`worker N (pid P) is listening`), by worker number. */
function workerPids(output: string): Map<number, number> {
  const pids = new Map<number, number>();
  for (const [, worker, pid] of output.matchAll(/worker (\d+) \(pid (\d+)\) is listening/g)) {
    pids.set(Number(worker), Number(pid));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("WORKERS without REDIS_URL", () => {
  it("refuses to start with one line naming WORKERS and REDIS_URL, and exits 1", async () => {
    const server = spawnServer({ PORT: "0", WORKERS: "2" });
    expect(await server.exited).toBe(1);
    const lines = server.output().trim().split("\n");
    expect(lines).toEqual([expect.stringMatching(/^brook: Invalid configuration: WORKERS: 2 workers need REDIS_URL/)]);
  }, 30_000);
});

// One Brook of two workers for the whole group: the tests below run in order, the last stops it.
describe("WORKERS=2 with REDIS_URL: one port, every run reachable from every worker", () => {
  let redis: RedisServer;
  let upstream: FakeUpstream;
  let server: ServerProcess;
  let url: string;
  const connections: Connection[] = [];
  const pair = async () => {
    const first = await connect(url);
    const second = await connect(url, (worker) => worker !== first.worker);
    connections.push(first, second);
    return [first, second] as const;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = await startFakeUpstream();
    server = spawnServer({
      WORKERS: "2",
      REDIS_URL: redis.url,
      PORT: "0",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: upstream.url,
      OPENAI_MAX_RETRIES: "0",
      // Held connections stay open between the steps of a test.
      KEEP_ALIVE_TIMEOUT_MS: "60000",
      LOG_FORMAT: "json",
    });
    const line = await server.waitFor(/streaming at .* with 2 workers/, 90_000);
    url = /at (http:\/\/[\d.]+:\d+)/.exec(line)?.[1] as string;
  }, 120_000);

  afterAll(async () => {
    for (const connection of connections) connection.close();
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
      // Workers whose primary is gone exit by themselves; do not leave any behind.
      for (const pid of workerPids(server.output()).values()) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
    await upstream?.close();
    await redis?.close();
  });

  it("answers on one port from both workers, each naming itself in /health", async () => {
    const seen = new Set<number>();
    for (let attempt = 0; attempt < 20 && seen.size < 2; attempt++) {
      const health = await healthOnNewConnection(url);
      expect(health).toMatchObject({ status: "ok", ready: true, redis: { status: "connected" } });
      seen.add(health.worker as number);
    }
    expect([...seen].sort()).toEqual([1, 2]);
    expect([...workerPids(server.output()).keys()].sort()).toEqual([1, 2]);
  });

  it("sums every worker's counters in one /metrics scrape, whichever worker answers it", async () => {
    const [first, second] = await pair();
    const scrape = async (connection: Connection) => {
      const response = await connection.send("GET", "/metrics");
      expect(response.statusCode).toBe(200);
      return text(response);
    };
    const succeeded = (metrics: string) =>
      Number(/^brook_requests_total\{kind="non_streaming",outcome="succeeded"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    const before = succeeded(await scrape(first));
    for (const connection of [first, second]) {
      const answered = await connection.send("POST", "/chat", { body: { message: `count me ${fake({ tokens: 3 })}` } });
      expect(answered.statusCode).toBe(200);
      await text(answered);
    }
    for (const connection of [first, second]) {
      const metrics = await scrape(connection);
      expect(succeeded(metrics)).toBe(before + 2);
      // One series per label set, not one per worker; the process figures are summed too.
      expect(metrics).not.toContain("worker=");
      expect(metrics).toMatch(/^brook_active_runs 0$/m);
    }
  });

  it("resumes a REST run on the other worker after the last event seen, with one model call", async () => {
    const [first, second] = await pair();
    const requestsBefore = upstream.requests.length;
    const seen: { id: string; event: ChatEvent }[] = [];
    for await (const { id, event } of events(
      await first.send("GET", streamPath(`resume me ${fake({ tokens: 30, delayMs: 20 })}`)),
    )) {
      seen.push({ id: id as string, event });
      if (seen.length === 6) break; // the connection drops: the run waits for a reader
    }
    const last = parseEventId(seen.at(-1)?.id as string);
    expect(last?.seq).toBe(5);

    const rest: { id: string; event: ChatEvent }[] = [];
    const resumed = await second.send("GET", streamPath("ignored"), {
      headers: { "last-event-id": seen.at(-1)?.id as string },
    });
    for await (const { id, event } of events(resumed)) rest.push({ id: id as string, event });
    const all = [...seen, ...rest];
    expect(all.map(({ id }) => parseEventId(id))).toEqual(all.map((_, seq) => ({ runId: last?.runId, seq })));
    expect(all.filter(({ event }) => event.type === "content")).toHaveLength(30);
    expect(rest.at(-1)?.event).toMatchObject({ type: "complete" });
    expect(upstream.requests.length - requestsBefore).toBe(1);
  });

  it("reads and cancels a tRPC run on the other worker than the one that started it", async () => {
    const [first, second] = await pair();
    const abortedBefore = upstream.abortedCount();
    const started = await first.send("POST", "/trpc/chat.start", {
      body: { message: `stop me from elsewhere ${fake({ tokens: 10, hangAfter: 2 })}` },
    });
    const runId = (JSON.parse(await text(started)) as { result: { data: { run_id: string } } }).result.data.run_id;

    // Read on the other worker through tRPC's subscription (SSE) until the model has said something.
    const reading = await second.send(
      "GET",
      `/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ run_id: runId }))}`,
    );
    let received = "";
    reading.setEncoding("utf8");
    reading.on("data", (chunk: string) => {
      received += chunk;
    });
    const ended = new Promise((resolve) => reading.once("end", resolve));
    await until(() => received.includes('"type":"content"'), 10_000);

    // Cancelled from a third connection on that other worker; the producer's model call ends.
    const canceller = await connect(url, (worker) => worker === second.worker);
    connections.push(canceller);
    const cancelled = await canceller.send("POST", "/trpc/chat.cancel", { body: { run_id: runId } });
    expect(JSON.parse(await text(cancelled))).toEqual({ result: { data: { run_id: runId, cancelled: true } } });
    await ended;
    // tRPC's own messages (connected, return) carry no JSON event.
    const terminals = sseData(received)
      .filter((data) => data.startsWith("{"))
      .map((data) => JSON.parse(data) as { type?: string; code?: string })
      .filter((data) => data.type === "complete" || data.type === "error");
    expect(terminals).toEqual([expect.objectContaining({ type: "error", code: "cancelled" })]);
    await until(() => upstream.abortedCount() === abortedBefore + 1, 5_000);
  });

  it("replaces a worker that was killed, with a log line, and serves from the replacement", async () => {
    const pids = workerPids(server.output());
    process.kill(pids.get(1) as number, "SIGKILL");
    await server.waitFor(/worker 1 \(pid \d+\) was killed by SIGKILL: starting a replacement/, 10_000);
    await server.waitFor(/worker 3 \(pid \d+\) is listening/, 60_000);
    const seen = new Set<number>();
    for (let attempt = 0; attempt < 20 && seen.size < 2; attempt++) {
      seen.add((await healthOnNewConnection(url)).worker as number);
    }
    expect([...seen].sort()).toEqual([2, 3]);
  }, 90_000);

  it("SIGTERM: every worker drains its running answers, then all exit and the primary exits 0", async () => {
    const [first, second] = await pair();
    const answers = [first, second].map(async (connection) => {
      const received: ChatEvent[] = [];
      const response = await connection.send("POST", "/chat/stream", {
        body: { message: `finish me ${fake({ tokens: 20, delayMs: 50 })}` },
      });
      for await (const { event } of events(response)) received.push(event);
      return received;
    });
    await until(() => upstream.openStreams() === 2, 10_000);
    const pids = [...workerPids(server.output()).entries()].filter(([worker]) => worker !== 1).map(([, pid]) => pid);

    server.child.kill("SIGTERM");
    for (const received of await Promise.all(answers)) {
      expect(received.at(-1)).toMatchObject({ type: "complete" });
      expect(received.filter((event) => event.type === "content")).toHaveLength(20);
    }
    expect(await server.exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(server.output()).toMatch(/SIGTERM: shutting down 2 worker\(s\)/);
  }, 60_000);
});
