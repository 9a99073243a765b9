import type { ModelStats, Percentiles, Stats, Usage } from "@brook/shared";
import { Counter, Registry, Summary } from "prom-client";
import type { RunKind } from "../engine/run.js";

export type RunOutcome = "succeeded" | "failed" | "cancelled";

export interface FinishedRun {
  kind: RunKind;
  outcome: RunOutcome;
  model: string;
  usage: Usage;
  ttftMs: number | null;
  durationMs: number;
}

/** Distinct model labels kept; callers choose model names, so the label set must stay bounded. */
const maxModels = 100;
const quantiles = [0.5, 0.9, 0.99];

/**
 * Usage statistics as Prometheus metrics (served at `/metrics`), read back into the `Stats`
 * shape for `/stats`. One registry per server, so several servers can share a process.
 */
export class StatsCollector {
  readonly registry = new Registry();
  readonly #startedAt = Date.now();
  #since = new Date();
  readonly #models = new Set<string>();

  readonly #requests = new Counter({
    name: "brook_requests_total",
    help: "Chat runs by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #tokens = new Counter({
    name: "brook_tokens_total",
    help: "Tokens by model and direction",
    labelNames: ["model", "direction"] as const,
    registers: [this.registry],
  });
  readonly #cost = new Counter({
    name: "brook_cost_usd_total",
    help: "Cost in US dollars by model",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });
  readonly #modelRuns = new Counter({
    name: "brook_model_requests_total",
    help: "Chat runs by model",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });
  readonly #ttft = new Summary({
    name: "brook_ttft_ms",
    help: "Time to first token in milliseconds (last 10 minutes)",
    percentiles: quantiles,
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.registry],
  });
  readonly #duration = new Summary({
    name: "brook_run_duration_ms",
    help: "Run duration in milliseconds (last 10 minutes)",
    percentiles: quantiles,
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.registry],
  });

  constructor(private readonly activeRuns: () => number) {}

  record(run: FinishedRun): void {
    const model = this.#modelLabel(run.model);
    this.#requests.inc({ kind: run.kind, outcome: run.outcome });
    this.#modelRuns.inc({ model });
    this.#tokens.inc({ model, direction: "input" }, run.usage.input_tokens);
    this.#tokens.inc({ model, direction: "output" }, run.usage.output_tokens);
    this.#cost.inc({ model }, run.usage.total_cost);
    if (run.ttftMs !== null) this.#ttft.observe(run.ttftMs);
    this.#duration.observe(run.durationMs);
  }

  reset(): void {
    this.registry.resetMetrics();
    this.#models.clear();
    this.#since = new Date();
  }

  async snapshot(): Promise<Stats> {
    const [requests, tokens, cost, modelRuns, ttft, duration] = await Promise.all([
      this.#requests.get(),
      this.#tokens.get(),
      this.#cost.get(),
      this.#modelRuns.get(),
      this.#ttft.get(),
      this.#duration.get(),
    ]);
    const count = (match: (labels: Sample["labels"]) => boolean) =>
      requests.values.reduce((sum, sample) => (match(sample.labels) ? sum + sample.value : sum), 0);
    const models: Record<string, ModelStats> = {};
    const modelEntry = (model: string) => {
      models[model] ??= { requests: 0, input_tokens: 0, output_tokens: 0, total_cost: 0 };
      return models[model];
    };
    for (const sample of modelRuns.values) modelEntry(String(sample.labels.model)).requests = sample.value;
    let input = 0;
    let output = 0;
    for (const sample of tokens.values) {
      const entry = modelEntry(String(sample.labels.model));
      if (sample.labels.direction === "input") {
        entry.input_tokens = sample.value;
        input += sample.value;
      } else {
        entry.output_tokens = sample.value;
        output += sample.value;
      }
    }
    let totalCost = 0;
    for (const sample of cost.values) {
      modelEntry(String(sample.labels.model)).total_cost = roundDollars(sample.value);
      totalCost += sample.value;
    }
    return {
      requests: {
        total: count(() => true),
        streaming: count((labels) => labels.kind === "streaming"),
        non_streaming: count((labels) => labels.kind === "non_streaming"),
        succeeded: count((labels) => labels.outcome === "succeeded"),
        failed: count((labels) => labels.outcome === "failed"),
        cancelled: count((labels) => labels.outcome === "cancelled"),
      },
      active_runs: this.activeRuns(),
      tokens: { input, output, total: input + output },
      total_cost: roundDollars(totalCost),
      models,
      ttft_ms: percentiles(ttft.values),
      duration_ms: percentiles(duration.values),
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      since: this.#since.toISOString(),
    };
  }

  #modelLabel(model: string): string {
    if (this.#models.has(model)) return model;
    if (this.#models.size >= maxModels) return "other";
    this.#models.add(model);
    return model;
  }
}

interface Sample {
  labels: Partial<Record<string, string | number>>;
  value: number;
  metricName?: string;
}

function percentiles(samples: readonly Sample[]): Percentiles {
  const count = samples.find((sample) => sample.metricName?.endsWith("_count"))?.value ?? 0;
  const at = (quantile: number) => {
    const value = samples.find((sample) => sample.labels.quantile === quantile)?.value;
    return count === 0 || value === undefined || Number.isNaN(value) ? null : Math.round(value * 100) / 100;
  };
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

function roundDollars(dollars: number): number {
  return Math.round(dollars * 1e10) / 1e10;
}
