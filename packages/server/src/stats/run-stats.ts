import type { ApprovalDecision, ModelStats, Percentiles, Stats } from "@brook/shared";
import type { RunEnded } from "../control/run-control.js";
import { PercentileSketch } from "./percentile-sketch.js";

/**
 * The statistics of `/stats` and `stats.get`: runs by kind and outcome, tokens, cost, per model,
 * TTFT and duration percentiles, since the last reset. Unlike `/metrics` (per instance, never
 * reset), a backend shared between instances counts every instance's runs.
 */
export interface RunStats {
  record(ended: RunEnded): void;
  /** A tool call's approval was asked for, or decided. */
  recordApproval(event: ApprovalEvent): void;
  snapshot(): Promise<Stats>;
  /** Starts counting afresh; returns the fresh statistics. */
  reset(): Promise<Stats>;
}

export type ApprovalEvent = "requested" | ApprovalDecision;

/** No approval counted yet. */
export const noApprovals = (): NonNullable<Stats["approvals"]> => ({
  requested: 0,
  approved: 0,
  denied: 0,
  timed_out: 0,
});

export type RunOutcomeLabel = "succeeded" | "failed" | "cancelled";

export function outcomeOf({ terminal }: Pick<RunEnded, "terminal">): RunOutcomeLabel {
  return terminal.type === "complete" ? "succeeded" : terminal.code === "cancelled" ? "cancelled" : "failed";
}

/** Distinct model names kept; callers choose model names, so the set must stay bounded. */
export const maxModels = 100;

/** The statistics of this process alone. */
export class MemoryRunStats implements RunStats {
  readonly #startedAt = Date.now();
  #since = new Date();
  #requests = { total: 0, streaming: 0, non_streaming: 0, succeeded: 0, failed: 0, cancelled: 0 };
  #models = new Map<string, ModelStats>();
  #ttft = new PercentileSketch();
  #duration = new PercentileSketch();
  #approvals = noApprovals();

  constructor(private readonly activeRuns: () => number) {}

  record(ended: RunEnded): void {
    const requests = this.#requests;
    requests.total += 1;
    requests[ended.kind] += 1;
    requests[outcomeOf(ended)] += 1;
    const { usage } = ended.terminal;
    const name = this.#models.has(ended.model) || this.#models.size < maxModels ? ended.model : "other";
    const model = this.#models.get(name) ?? emptyModelStats();
    model.requests += 1;
    model.input_tokens += usage.input_tokens;
    model.output_tokens += usage.output_tokens;
    model.cached_input_tokens += usage.cached_input_tokens;
    model.reasoning_tokens += usage.reasoning_tokens;
    model.total_cost += usage.total_cost;
    this.#models.set(name, model);
    if (ended.timing.ttft_ms !== null) this.#ttft.add(ended.timing.ttft_ms);
    this.#duration.add(ended.timing.duration_ms);
  }

  recordApproval(event: ApprovalEvent): void {
    this.#approvals[event] += 1;
  }

  async snapshot(): Promise<Stats> {
    let input = 0;
    let output = 0;
    let cachedInput = 0;
    let reasoning = 0;
    let cost = 0;
    const models: Record<string, ModelStats> = {};
    for (const [name, model] of this.#models) {
      input += model.input_tokens;
      output += model.output_tokens;
      cachedInput += model.cached_input_tokens;
      reasoning += model.reasoning_tokens;
      cost += model.total_cost;
      models[name] = { ...model, total_cost: roundDollars(model.total_cost) };
    }
    return {
      requests: { ...this.#requests },
      active_runs: this.activeRuns(),
      approvals: { ...this.#approvals },
      tokens: { input, output, total: input + output, cached_input: cachedInput, reasoning },
      total_cost: roundDollars(cost),
      models,
      ttft_ms: percentiles(this.#ttft),
      duration_ms: percentiles(this.#duration),
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      since: this.#since.toISOString(),
    };
  }

  async reset(): Promise<Stats> {
    this.#since = new Date();
    this.#requests = { total: 0, streaming: 0, non_streaming: 0, succeeded: 0, failed: 0, cancelled: 0 };
    this.#models = new Map();
    this.#ttft = new PercentileSketch();
    this.#duration = new PercentileSketch();
    this.#approvals = noApprovals();
    return this.snapshot();
  }
}

export function percentiles(sketch: PercentileSketch): Percentiles {
  return { count: sketch.count, p50: sketch.quantile(0.5), p90: sketch.quantile(0.9), p99: sketch.quantile(0.99) };
}

export function roundDollars(dollars: number): number {
  return Math.round(dollars * 1e10) / 1e10;
}

/** A model's statistics before its first run. */
export function emptyModelStats(): ModelStats {
  return { requests: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0, total_cost: 0 };
}
