import { Counter, Gauge, Registry, Summary } from "prom-client";
import type { RunEnded } from "../control/run-control.js";
import { maxModels, outcomeOf } from "./run-stats.js";

const quantiles = [0.5, 0.9, 0.99];

/**
 * This instance's metrics in Prometheus format (`/metrics`). Counters only ever grow (Prometheus
 * handles process restarts, not resets by an API call); each instance reports its own. One
 * registry per server, so several servers can share a process.
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly #models = new Set<string>();

  readonly #requests = new Counter({
    name: "brook_requests_total",
    help: "Chat runs by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.#registry],
  });
  readonly #tokens = new Counter({
    name: "brook_tokens_total",
    help: "Tokens by model and direction (input, output; cached_input and reasoning are parts of those)",
    labelNames: ["model", "direction"] as const,
    registers: [this.#registry],
  });
  readonly #cost = new Counter({
    name: "brook_cost_usd_total",
    help: "Cost in US dollars by model",
    labelNames: ["model"] as const,
    registers: [this.#registry],
  });
  readonly #modelRuns = new Counter({
    name: "brook_model_requests_total",
    help: "Chat runs by model",
    labelNames: ["model"] as const,
    registers: [this.#registry],
  });
  readonly #ttft = new Summary({
    name: "brook_ttft_ms",
    help: "Time to first token in milliseconds (last 10 minutes)",
    percentiles: quantiles,
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.#registry],
  });
  readonly #duration = new Summary({
    name: "brook_run_duration_ms",
    help: "Run duration in milliseconds (last 10 minutes)",
    percentiles: quantiles,
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.#registry],
  });

  constructor(activeRuns: () => number) {
    new Gauge({
      name: "brook_active_runs",
      help: "Runs generating now",
      registers: [this.#registry],
      collect() {
        this.set(activeRuns());
      },
    });
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  text(): Promise<string> {
    return this.#registry.metrics();
  }

  record(ended: RunEnded): void {
    const model = this.#modelLabel(ended.model);
    const { usage } = ended.terminal;
    this.#requests.inc({ kind: ended.kind, outcome: outcomeOf(ended) });
    this.#modelRuns.inc({ model });
    this.#tokens.inc({ model, direction: "input" }, usage.input_tokens);
    this.#tokens.inc({ model, direction: "output" }, usage.output_tokens);
    // Parts of input and output, not added to them: sum only "input" and "output" for totals.
    this.#tokens.inc({ model, direction: "cached_input" }, usage.cached_input_tokens);
    this.#tokens.inc({ model, direction: "reasoning" }, usage.reasoning_tokens);
    this.#cost.inc({ model }, usage.total_cost);
    if (ended.timing.ttft_ms !== null) this.#ttft.observe(ended.timing.ttft_ms);
    this.#duration.observe(ended.timing.duration_ms);
  }

  #modelLabel(model: string): string {
    if (this.#models.has(model)) return model;
    if (this.#models.size >= maxModels) return "other";
    this.#models.add(model);
    return model;
  }
}
