/**
 * The scale-out section: Brook instances sharing a Redis (`REDIS_URL`). Each figure compares two
 * sides in the same run, rounds interleaved: a reader on another instance against one on the
 * producing instance; Brook with `REDIS_URL` against Brook without; two instances against one.
 */
import { request } from "node:http";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { benchMessage } from "./answer-shape.js";
import { type BrookProcess, startBrook } from "./bench-processes.js";
import { newAgent, type Path, quantile, runPool, runRequest, startRun, summarize, type Targets } from "./load.js";
import type { Context } from "./scenarios.js";

export interface ScaleOutConfig {
  roundMs: number;
  rounds: number;
  concurrency: number;
  tokens: number;
  /** Paced streams at once on a Brook with REDIS_URL and one without: what mirroring costs at a model's pace. */
  paced: { concurrency: number; tokens: number; delayMs: number };
  /** Paced runs read locally and remotely at once, for the delivery delay. */
  delay: { runs: number; concurrency: number; tokens: number; delayMs: number };
  /** Finished runs kept in Redis, for its memory per run. */
  memoryRuns: number;
  /** Concurrent paced streams on one instance, then the same split over two. */
  capacity: { streams: number; tokens: number; delayMs: number };
}

export const fullScaleOut: ScaleOutConfig = {
  roundMs: 3_000,
  rounds: 4,
  concurrency: 16,
  tokens: 200,
  paced: { concurrency: 128, tokens: 50, delayMs: 10 },
  delay: { runs: 200, concurrency: 16, tokens: 50, delayMs: 20 },
  memoryRuns: 500,
  capacity: { streams: 2_000, tokens: 50, delayMs: 20 },
};

export const quickScaleOut: ScaleOutConfig = {
  roundMs: 1_500,
  rounds: 2,
  concurrency: 16,
  tokens: 200,
  paced: { concurrency: 128, tokens: 50, delayMs: 10 },
  delay: { runs: 80, concurrency: 16, tokens: 50, delayMs: 20 },
  memoryRuns: 200,
  capacity: { streams: 1_000, tokens: 50, delayMs: 20 },
};

const round2 = (value: number) => Math.round(value * 100) / 100;

export async function measureScaleOut(
  context: Context,
  upstreamUrl: string,
  from: "build" | "source",
  config: ScaleOutConfig,
) {
  const redis = await startRedisServer();
  // A generous retention: the memory figure counts finished runs still kept.
  const env = { REDIS_URL: redis.url, RUN_RETENTION_MS: "600000", RUN_RETAIN_MAX: "100000" };
  const [a, b] = [await startBrook(upstreamUrl, from, env), await startBrook(upstreamUrl, from, env)];
  try {
    const targets = (brook: BrookProcess, reader?: BrookProcess): Targets => ({
      upstreamUrl,
      brookUrl: brook.url,
      ...(reader === undefined ? {} : { readerUrl: reader.url }),
    });
    const shape = { tokens: config.tokens, delayMs: 0 };

    // A reader on the producing instance (memory) against one on another (Redis).
    const [local, remote] = await interleave(
      config,
      [
        { name: "local", path: "trpc-run", targets: targets(a), processes: [a, b] },
        { name: "remote", path: "trpc-run", targets: targets(a, b), processes: [a, b] },
      ],
      shape,
    );
    context.log(
      `scale-out relay: local ${local.eventsPerSecond}/s · remote ${remote.eventsPerSecond}/s · ratio ${round2(remote.eventsPerSecond / local.eventsPerSecond)} · CPU ${local.cpuPerEvent} vs ${remote.cpuPerEvent} µs/event · errors ${local.errors + remote.errors}`,
    );

    // The same subscription on a Brook without Redis and on one with it: what mirroring costs.
    const [unset, set] = await interleave(
      config,
      [
        { name: "unset", path: "trpc", targets: targets(context.brook), processes: [context.brook] },
        { name: "set", path: "trpc", targets: targets(a), processes: [a] },
      ],
      shape,
    );
    context.log(
      `REDIS_URL cost: CPU ${unset.cpuPerEvent} (unset) vs ${set.cpuPerEvent} (set) µs/event · ${unset.eventsPerSecond} vs ${set.eventsPerSecond} events/s`,
    );

    // The same at a model's pace: one event per upstream read, so one per batch appended.
    const paced = config.paced;
    const [pacedUnset, pacedSet] = await interleave(
      { ...config, concurrency: paced.concurrency },
      [
        { name: "unset", path: "trpc", targets: targets(context.brook), processes: [context.brook] },
        { name: "set", path: "trpc", targets: targets(a), processes: [a] },
      ],
      { tokens: paced.tokens, delayMs: paced.delayMs },
    );
    context.log(
      `REDIS_URL cost, paced (${paced.concurrency} streams × ${paced.tokens} tokens ${paced.delayMs} ms apart): CPU ${pacedUnset.cpuPerEvent} (unset) vs ${pacedSet.cpuPerEvent} (set) µs/event`,
    );

    const delay = await measureDelay(a, b, config.delay);
    context.log(`remote delivery delay: p50 ${delay.p50} ms · p99 ${delay.p99} ms over ${delay.events} events`);

    const memory = await measureRedisMemory(redis, a, config.memoryRuns, config.tokens);
    context.log(`Redis memory per finished run (${config.tokens} events): ${memory.perRunKb} KB`);

    const capacity = await measureTwoVersusOne(upstreamUrl, a, b, config.capacity);
    context.log(
      `capacity ${config.capacity.streams} streams: one instance p99 ${capacity.one.totalP99} ms (${capacity.one.errors} errors) · two ${capacity.two.totalP99} ms (${capacity.two.errors} errors)`,
    );
    return {
      tokens: config.tokens,
      localEventsPerSecond: local.eventsPerSecond,
      remoteEventsPerSecond: remote.eventsPerSecond,
      remoteRatio: round2(remote.eventsPerSecond / local.eventsPerSecond),
      localCpuMicrosPerEvent: local.cpuPerEvent,
      remoteCpuMicrosPerEvent: remote.cpuPerEvent,
      unsetCpuMicrosPerEvent: unset.cpuPerEvent,
      setCpuMicrosPerEvent: set.cpuPerEvent,
      cpuIncrease: round2(set.cpuPerEvent / unset.cpuPerEvent - 1),
      paced: {
        ...paced,
        unsetCpuMicrosPerEvent: pacedUnset.cpuPerEvent,
        setCpuMicrosPerEvent: pacedSet.cpuPerEvent,
        cpuIncrease: round2(pacedSet.cpuPerEvent / pacedUnset.cpuPerEvent - 1),
      },
      delayP50: delay.p50,
      delayP99: delay.p99,
      delayEvents: delay.events,
      redisKbPerRun: memory.perRunKb,
      capacity: { ...config.capacity, one: capacity.one, two: capacity.two },
      errors:
        local.errors +
        remote.errors +
        unset.errors +
        set.errors +
        pacedUnset.errors +
        pacedSet.errors +
        capacity.one.errors +
        capacity.two.errors,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.close();
  }
}

interface Side {
  name: string;
  path: Path;
  targets: Targets;
  /** Whose CPU time counts for this side. */
  processes: BrookProcess[];
}

/** Throughput and CPU per content event of two sides, rounds interleaved (A B, B A…), the first round a warm-up. */
async function interleave(config: ScaleOutConfig, sides: [Side, Side], shape: { tokens: number; delayMs: number }) {
  const totals = new Map(sides.map((side) => [side.name, { seconds: 0, contents: 0, errors: 0, cpu: 0 }]));
  for (let round = 0; round < config.rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [sides[1], sides[0]]) {
      const cpu = async () =>
        (await Promise.all(side.processes.map((process) => process.cpuMicros()))).reduce(
          (sum, value) => sum + value,
          0,
        );
      const before = await cpu();
      const agent = newAgent();
      const deadline = performance.now() + config.roundMs;
      const startedAt = performance.now();
      const results: Awaited<ReturnType<typeof runRequest>>[] = [];
      await Promise.all(
        Array.from({ length: config.concurrency }, async () => {
          while (performance.now() < deadline)
            results.push(await runRequest(side.path, side.targets, shape, { agent }));
        }),
      );
      agent.destroy();
      const spent = (await cpu()) - before;
      if (round === 0 && config.rounds > 1) continue;
      const total = totals.get(side.name) as { seconds: number; contents: number; errors: number; cpu: number };
      const summary = summarize(results);
      total.seconds += (performance.now() - startedAt) / 1000;
      total.contents += summary.contents;
      total.errors += summary.errors;
      total.cpu += spent;
    }
  }
  const result = (name: string) => {
    const total = totals.get(name) as { seconds: number; contents: number; errors: number; cpu: number };
    return {
      eventsPerSecond: Math.round(total.contents / total.seconds),
      cpuPerEvent: total.contents > 0 ? round2(total.cpu / total.contents) : Number.NaN,
      errors: total.errors,
    };
  };
  return [result(sides[0].name), result(sides[1].name)] as const;
}

/** Paced runs started on `a`, read on `a` and on `b` at once: when each event reaches the reader on `b`, later. */
async function measureDelay(a: BrookProcess, b: BrookProcess, config: ScaleOutConfig["delay"]) {
  const delays: number[] = [];
  const agent = newAgent();
  await runPool(config.runs, config.concurrency, async () => {
    const runId = await post(`${a.url}/trpc/chat.start`, { message: benchMessage(config) }, agent);
    const [local, remote] = await Promise.all([arrivals(a.url, runId, agent), arrivals(b.url, runId, agent)]);
    for (const [seq, at] of remote) {
      const here = local.get(seq);
      if (here !== undefined) delays.push(at - here);
    }
  });
  agent.destroy();
  return { p50: round2(quantile(delays, 0.5)), p99: round2(quantile(delays, 0.99)), events: delays.length };
}

/** Redis's memory for `runs` finished runs of `tokens` events each, per run. */
async function measureRedisMemory(redis: RedisServer, brook: BrookProcess, runs: number, tokens: number) {
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.client.info("memory"))?.[1] ?? 0);
  const before = await usedMemory();
  const agent = newAgent();
  await runPool(runs, 16, async () => {
    const runId = await post(`${brook.url}/trpc/chat.start`, { message: benchMessage({ tokens, delayMs: 0 }) }, agent);
    await arrivals(brook.url, runId, agent);
  });
  agent.destroy();
  return { perRunKb: round2(((await usedMemory()) - before) / 1024 / runs) };
}

/** Paced REST streams all on one instance, then split over two: what a second instance adds. */
async function measureTwoVersusOne(
  upstreamUrl: string,
  a: BrookProcess,
  b: BrookProcess,
  config: ScaleOutConfig["capacity"],
) {
  const shape = { tokens: config.tokens, delayMs: config.delayMs };
  const run = async (instances: BrookProcess[]) => {
    const agent = newAgent();
    const results = await runPool(config.streams, config.streams, (index) =>
      runRequest("rest", { upstreamUrl, brookUrl: (instances[index % instances.length] as BrookProcess).url }, shape, {
        agent,
      }),
    );
    agent.destroy();
    const summary = summarize(results);
    return {
      errors: summary.errors,
      totalP99: round2(summary.totalP99),
      idealMs: (config.tokens - 1) * config.delayMs,
    };
  };
  const one = await run([a]);
  const two = await run([a, b]);
  return { one, two };
}

/** `chat.start` on `baseUrl`: the run's id. */
async function post(url: string, input: unknown, agent: ReturnType<typeof newAgent>): Promise<string> {
  const started = await startRun(url, JSON.stringify(input), { agent });
  if (typeof started !== "string") throw new Error(started.error);
  return started;
}

/** Reads a run's `chat.events` to its end: when each content event (by seq) arrived. */
function arrivals(baseUrl: string, runId: string, agent: ReturnType<typeof newAgent>): Promise<Map<number, number>> {
  const url = `${baseUrl}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ run_id: runId }))}`;
  return new Promise((resolve, reject) => {
    const seen = new Map<number, number>();
    const req = request(url, { agent, headers: { accept: "text/event-stream" } }, (res) => {
      let carry = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const now = performance.now();
        const text = carry + chunk;
        const end = text.lastIndexOf("\n\n");
        if (end < 0) {
          carry = text;
          return;
        }
        carry = text.slice(end + 2);
        for (const match of text.slice(0, end).matchAll(/"type":"content"[^\n]*\nid: [^:\n]+:(\d+)/g)) {
          seen.set(Number(match[1]), now);
        }
        if (text.includes("event: return")) {
          req.destroy();
          resolve(seen);
        }
      });
      res.once("end", () => resolve(seen));
      res.once("error", reject);
    });
    req.once("error", (error) => (seen.size > 0 ? resolve(seen) : reject(error)));
    req.end();
  });
}
