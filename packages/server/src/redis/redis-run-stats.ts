import type { ModelStats, Stats } from "@brook/shared";
import type { Result } from "ioredis";
import type { RunEnded } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import { bucketOf, exactValuesMax, PercentileSketch } from "../stats/percentile-sketch.js";
import {
  type ApprovalEvent,
  emptyModelStats,
  maxModels,
  outcomeOf,
  percentiles,
  type RunStats,
  roundDollars,
} from "../stats/run-stats.js";
import type { RedisClients } from "./redis-clients.js";

/** One slot for all of them (`{stats}`), so one script can count a run in Redis Cluster too. */
const keys = {
  counts: "brook:{stats}:counts",
  models: "brook:{stats}:models",
  ttft: "brook:{stats}:ttft",
  duration: "brook:{stats}:duration",
  /** The values themselves while few: percentiles are exact up to `exactValuesMax` runs. */
  ttftValues: "brook:{stats}:ttft:values",
  durationValues: "brook:{stats}:duration:values",
  instances: "brook:{stats}:instances",
};

/**
 * Counts one ended run. Model names beyond the bound count as `other`.
 * KEYS: counts, models, ttft, duration, ttft values, duration values. ARGV: kind, outcome, model,
 * input, output, cost, ttft bucket ('' without a first token), duration bucket, max models, now
 * (ISO), cached input, reasoning, ttft, duration, the most values kept.
 */
const recordScript = `
redis.call('HSETNX', KEYS[1], 'since', ARGV[10])
local model = ARGV[3]
if redis.call('SISMEMBER', KEYS[2], model) == 0 then
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[9]) then model = 'other' end
  redis.call('SADD', KEYS[2], model)
end
redis.call('HINCRBY', KEYS[1], 'requests:total', 1)
redis.call('HINCRBY', KEYS[1], 'requests:' .. ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], 'requests:' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], 'model:' .. model .. ':requests', 1)
redis.call('HINCRBY', KEYS[1], 'model:' .. model .. ':input_tokens', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'model:' .. model .. ':output_tokens', ARGV[5])
redis.call('HINCRBYFLOAT', KEYS[1], 'model:' .. model .. ':total_cost', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'model:' .. model .. ':cached_input_tokens', ARGV[11])
redis.call('HINCRBY', KEYS[1], 'model:' .. model .. ':reasoning_tokens', ARGV[12])
local kept = tonumber(ARGV[15])
if ARGV[7] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[7], 1)
  if redis.call('LLEN', KEYS[5]) < kept then redis.call('RPUSH', KEYS[5], ARGV[13]) end
end
redis.call('HINCRBY', KEYS[4], ARGV[8], 1)
if redis.call('LLEN', KEYS[6]) < kept then redis.call('RPUSH', KEYS[6], ARGV[14]) end
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    brookRecordRun(...args: (string | number)[]): Result<number, Context>;
  }
}

/** How long an instance's report of its active runs counts without a newer one. */
const instanceReportValidMs = 5_000;

/**
 * The statistics of every instance sharing one Redis: each ended run is counted there in one
 * round trip; percentiles come from merged bucket counts; active runs are the sum of what each
 * live instance reports every second.
 */
export class RedisRunStats implements RunStats {
  readonly #startedAt = Date.now();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly clients: RedisClients,
    private readonly instanceId: string,
    private readonly activeRuns: () => number,
  ) {
    clients.commands.defineCommand("brookRecordRun", { numberOfKeys: 6, lua: recordScript });
    this.#timer = setInterval(() => this.#report(), 1_000);
    this.#timer.unref();
  }

  record(ended: RunEnded): void {
    const { usage } = ended.terminal;
    this.clients.commands
      .brookRecordRun(
        keys.counts,
        keys.models,
        keys.ttft,
        keys.duration,
        keys.ttftValues,
        keys.durationValues,
        ended.kind,
        outcomeOf(ended),
        ended.model,
        usage.input_tokens,
        usage.output_tokens,
        usage.total_cost,
        ended.timing.ttft_ms === null ? "" : bucketOf(ended.timing.ttft_ms),
        bucketOf(ended.timing.duration_ms),
        maxModels,
        new Date().toISOString(),
        usage.cached_input_tokens,
        usage.reasoning_tokens,
        ended.timing.ttft_ms ?? "",
        ended.timing.duration_ms,
        exactValuesMax,
      )
      // Redis is away: the statistics miss this run (Redis's outage is logged once, elsewhere).
      .catch(() => {});
  }

  recordApproval(event: ApprovalEvent): void {
    this.clients.commands.hincrby(keys.counts, `approvals:${event}`, 1).catch(() => {});
  }

  async snapshot(): Promise<Stats> {
    const { commands } = this.clients;
    let counts: Record<string, string>;
    let ttft: Record<string, string>;
    let duration: Record<string, string>;
    let instances: Record<string, string>;
    let ttftValues: string[];
    let durationValues: string[];
    try {
      [counts, ttft, duration, instances, ttftValues, durationValues] = await Promise.all([
        commands.hgetall(keys.counts),
        commands.hgetall(keys.ttft),
        commands.hgetall(keys.duration),
        commands.hgetall(keys.instances),
        commands.lrange(keys.ttftValues, 0, exactValuesMax - 1),
        commands.lrange(keys.durationValues, 0, exactValuesMax - 1),
      ]);
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    const count = (field: string) => Number(counts[field] ?? 0);
    const models: Record<string, ModelStats> = {};
    let input = 0;
    let output = 0;
    let cachedInput = 0;
    let reasoning = 0;
    let cost = 0;
    for (const [field, value] of Object.entries(counts)) {
      const match =
        /^model:(.*):(requests|input_tokens|output_tokens|cached_input_tokens|reasoning_tokens|total_cost)$/.exec(
          field,
        );
      if (match === null) continue;
      const [, name = "", measure = ""] = match;
      const model = models[name] ?? emptyModelStats();
      models[name] = model;
      const amount = Number(value);
      if (measure === "requests") model.requests = amount;
      else if (measure === "input_tokens") {
        model.input_tokens = amount;
        input += amount;
      } else if (measure === "output_tokens") {
        model.output_tokens = amount;
        output += amount;
      } else if (measure === "cached_input_tokens") {
        model.cached_input_tokens = amount;
        cachedInput += amount;
      } else if (measure === "reasoning_tokens") {
        model.reasoning_tokens = amount;
        reasoning += amount;
      } else {
        model.total_cost = roundDollars(amount);
        cost += amount;
      }
    }
    return {
      requests: {
        total: count("requests:total"),
        streaming: count("requests:streaming"),
        non_streaming: count("requests:non_streaming"),
        succeeded: count("requests:succeeded"),
        failed: count("requests:failed"),
        cancelled: count("requests:cancelled"),
      },
      active_runs: this.#activeEverywhere(instances),
      approvals: {
        requested: count("approvals:requested"),
        approved: count("approvals:approved"),
        denied: count("approvals:denied"),
        timed_out: count("approvals:timed_out"),
      },
      tokens: { input, output, total: input + output, cached_input: cachedInput, reasoning },
      total_cost: roundDollars(cost),
      models,
      ttft_ms: percentiles(sketchOf(ttft, ttftValues)),
      duration_ms: percentiles(sketchOf(duration, durationValues)),
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      since: counts.since ?? new Date().toISOString(),
    };
  }

  async reset(): Promise<Stats> {
    try {
      await this.clients.commands
        .multi()
        .del(keys.counts, keys.models, keys.ttft, keys.duration, keys.ttftValues, keys.durationValues)
        .hset(keys.counts, "since", new Date().toISOString())
        .exec();
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    return this.snapshot();
  }

  close(): void {
    clearInterval(this.#timer);
    this.clients.commands.hdel(keys.instances, this.instanceId).catch(() => {});
  }

  /** This instance's active runs now, and every other live instance's as it last reported them. */
  #activeEverywhere(instances: Record<string, string>): number {
    const now = Date.now();
    let active = this.activeRuns();
    for (const [instance, report] of Object.entries(instances)) {
      if (instance === this.instanceId) continue;
      const [runs = "0", at = "0"] = report.split(":");
      if (now - Number(at) < instanceReportValidMs) active += Number(runs);
    }
    return active;
  }

  #report(): void {
    if (!this.clients.connected) return;
    this.clients.commands.hset(keys.instances, this.instanceId, `${this.activeRuns()}:${Date.now()}`).catch(() => {});
  }
}

/** The merged sketch: exact from the values while every one is kept, else from the bucket counts. */
function sketchOf(counts: Record<string, string>, values: string[]): PercentileSketch {
  const sketch = new PercentileSketch();
  sketch.merge(
    Object.entries(counts).map(([bucket, count]) => [Number(bucket), Number(count)] as const),
    values.map(Number),
  );
  return sketch;
}
