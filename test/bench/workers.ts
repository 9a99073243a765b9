/**
 * The workers section: one Brook of `WORKERS=2` against one of `WORKERS=1`, both with the same
 * `REDIS_URL` (a real redis-server), so that the only difference is the second worker. A saturating
 * load of bursty 200-token answers, rounds interleaved (A B, B A…), the first round of each a
 * warm-up. CPU time is summed over the primary and every worker (the probe asks each over the
 * cluster's channel), and each process's share of the cores is read over the same rounds: the load
 * generator (this process), the fake upstream and Redis run on the same cores as Brook.
 */
import { availableParallelism } from "node:os";
import { startRedisServer } from "../support/redis-server.js";
import { type BrookProcess, startBrook } from "./bench-processes.js";
import { newAgent, type Path, quantile, type RequestResult, runRequest, summarize } from "./load.js";
import type { Context } from "./scenarios.js";

export interface WorkersConfig {
  roundMs: number;
  /** Per side; the first is a warm-up. */
  rounds: number;
  /** Streams at once, each asking for its next answer as soon as one ends. */
  concurrency: number;
  tokens: number;
}

export const fullWorkers: WorkersConfig = { roundMs: 3_000, rounds: 5, concurrency: 64, tokens: 200 };
export const quickWorkers: WorkersConfig = { roundMs: 1_500, rounds: 3, concurrency: 64, tokens: 200 };

/**
 * The paths measured: the REST stream (a run that belongs to its request: nothing of it goes to
 * Redis) and the tRPC subscription (a resumable run: every batch of events goes to Redis too).
 */
const paths = ["rest", "trpc"] as const satisfies readonly Path[];

const round2 = (value: number) => Math.round(value * 100) / 100;

/** One side's totals over its measured rounds. */
interface Tally {
  seconds: number;
  contents: number;
  errors: number;
  sampleErrors: Set<string>;
  totals: number[];
  /** CPU time over the rounds, µs: Brook (every process), the fake upstream, the load generator, Redis. */
  brook: number;
  upstream: number;
  generator: number;
  redis: number;
}

export async function measureWorkers(
  context: Context,
  upstreamUrl: string,
  from: "build" | "source",
  config: WorkersConfig,
) {
  const redis = await startRedisServer();
  const redisCpuMicros = async () => {
    const info = await redis.client.info("cpu");
    const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6;
  };
  const brooks: BrookProcess[] = [];
  try {
    for (const workers of [1, 2]) {
      const brook = await startBrook(upstreamUrl, from, { REDIS_URL: redis.url, WORKERS: String(workers) });
      brooks.push(brook);
      await untilListening(brook, workers);
    }
    const [one, two] = brooks as [BrookProcess, BrookProcess];
    /** `processes`: the primary and its workers, or the one process. */
    type Figures = ReturnType<typeof result> & { rssMb: number; processes: number };
    const results: Record<string, Figures & { one: Figures; eventsRatio: number }> = {};
    for (const path of paths) {
      const sides = [
        { workers: 1, brook: one },
        { workers: 2, brook: two },
      ];
      const tallies = new Map<number, Tally>();
      for (let round = 0; round < config.rounds; round++) {
        for (const { workers, brook } of round % 2 === 0 ? sides : [...sides].reverse()) {
          const cpu = async () => ({
            brook: await brook.cpuMicros(),
            upstream: (await context.upstream?.cpuMicros()) ?? Number.NaN,
            generator: generatorCpuMicros(),
            redis: await redisCpuMicros(),
          });
          const before = await cpu();
          const agent = newAgent();
          const startedAt = performance.now();
          const deadline = startedAt + config.roundMs;
          const requests: RequestResult[] = [];
          await Promise.all(
            Array.from({ length: config.concurrency }, async () => {
              while (performance.now() < deadline)
                requests.push(
                  await runRequest(
                    path,
                    { upstreamUrl, brookUrl: brook.url },
                    { tokens: config.tokens, delayMs: 0 },
                    { agent },
                  ),
                );
            }),
          );
          const seconds = (performance.now() - startedAt) / 1000;
          const after = await cpu();
          agent.destroy();
          if (round === 0 && config.rounds > 1) continue;
          const summary = summarize(requests);
          const tally = tallies.get(workers) ?? {
            seconds: 0,
            contents: 0,
            errors: 0,
            sampleErrors: new Set<string>(),
            totals: [],
            brook: 0,
            upstream: 0,
            generator: 0,
            redis: 0,
          };
          tallies.set(workers, tally);
          tally.seconds += seconds;
          tally.contents += summary.contents;
          tally.errors += summary.errors;
          for (const error of summary.sampleErrors) if (error !== undefined) tally.sampleErrors.add(error);
          for (const request of requests) if (request.ok) tally.totals.push(request.totalMs);
          tally.brook += after.brook - before.brook;
          tally.upstream += after.upstream - before.upstream;
          tally.generator += after.generator - before.generator;
          tally.redis += after.redis - before.redis;
        }
      }
      // Every process's RSS, primary included, after the last round: what the second worker adds.
      const figures = async (brook: BrookProcess, tally: Tally | undefined): Promise<Figures> => ({
        ...result(tally),
        rssMb: round2((await brook.rss()) / 2 ** 20),
        processes: (await brook.processes()).pids.length,
      });
      const [single, double] = [await figures(one, tallies.get(1)), await figures(two, tallies.get(2))];
      results[path] = { ...double, one: single, eventsRatio: round2(double.eventsPerSecond / single.eventsPerSecond) };
      context.log(
        `workers, ${path}: WORKERS=2 ${double.eventsPerSecond} vs WORKERS=1 ${single.eventsPerSecond} events/s (${results[path].eventsRatio}×) · CPU per event ${double.cpuMicrosPerEvent} vs ${single.cpuMicrosPerEvent} µs (every Brook process) · p99 total ${double.totalP99} vs ${single.totalP99} ms · RSS ${double.rssMb} MB (${double.processes} processes) vs ${single.rssMb} MB (${single.processes}) · cores busy: Brook ${double.cores.brook} vs ${single.cores.brook}, upstream ${double.cores.upstream} vs ${single.cores.upstream}, load generator ${double.cores.generator} vs ${single.cores.generator}, Redis ${double.cores.redis} vs ${single.cores.redis} · errors ${double.errors + single.errors}`,
      );
    }
    return {
      tokens: config.tokens,
      concurrency: config.concurrency,
      /** The load generator, the fake upstream and Redis run on these same cores. */
      cores: availableParallelism(),
      rest: results.rest,
      trpc: results.trpc,
    };
  } finally {
    for (const brook of brooks) await brook.stop();
    await redis.close();
  }
}

/** This process's CPU time, µs: the load generator's. */
function generatorCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** One side's figures: events/s, CPU per event over every Brook process, p99 total time, cores busy. */
function result(tally: Tally | undefined) {
  if (tally === undefined) throw new Error("a side of the workers section has no measured round");
  const cores = (micros: number) => round2(micros / 1e6 / tally.seconds);
  return {
    eventsPerSecond: Math.round(tally.contents / tally.seconds),
    cpuMicrosPerEvent: tally.contents > 0 ? round2(tally.brook / tally.contents) : Number.NaN,
    totalP50: round2(quantile(tally.totals, 0.5)),
    totalP99: round2(quantile(tally.totals, 0.99)),
    /** CPU seconds per second of each part: 1 is one core kept busy. */
    cores: {
      brook: cores(tally.brook),
      upstream: cores(tally.upstream),
      generator: cores(tally.generator),
      redis: cores(tally.redis),
    },
    errors: tally.errors,
    sampleErrors: [...tally.sampleErrors].slice(0, 3),
  };
}

/** Until every worker listens: the first one answers /health before the others are forked. */
async function untilListening(brook: BrookProcess, workers: number): Promise<void> {
  if (workers === 1) return;
  const deadline = Date.now() + 60_000;
  while ((await brook.processes()).listening < workers) {
    if (Date.now() > deadline) throw new Error(`${brook.url}: ${workers} workers did not all listen within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
