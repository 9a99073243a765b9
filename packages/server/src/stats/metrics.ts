import type { ApprovalDecision, DeploymentStatus, ErrorCode, McpServerStatus } from "@brook/shared";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RunEnded } from "../control/run-control.js";
import type { AttemptRecord } from "../models/model-router.js";
import type { ToolCallRecord } from "../tools/tool-registry.js";
import { PercentileSketch } from "./percentile-sketch.js";
import { maxModels, outcomeOf } from "./run-stats.js";

const prefix = "brook_";

/**
 * Histogram buckets in seconds, for LLM latencies: a first token from a few tens of ms (a cached
 * small model) to a minute (a reasoning model thinking first); whole runs up to 10 minutes (long
 * answers, tool rounds); tool calls from a few ms (a local stdio tool) to the tool timeout.
 */
const ttftBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60];
const durationBuckets = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];
const toolCallBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const quantiles = [0.5, 0.9, 0.99];

export interface MetricsSources {
  activeRuns(): number;
  /** The MCP servers as the tool registry sees them. */
  mcpServers(): readonly McpServerStatus[];
  /** Each deployment of each model (MODELS); none in demo mode. */
  deployments?(): readonly DeploymentStatus[];
}

/**
 * This instance's metrics in Prometheus format (`/metrics`). Counters and histograms only ever
 * grow (Prometheus handles process restarts, not resets by an API call); each instance reports
 * its own, and histograms add up across instances. One registry per server, so several servers
 * can share a process; the process metrics are the process's, once. Everything is recorded per
 * run, model call or tool call, never per event.
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly #exposed: Registry;
  readonly #models = new Set<string>();
  /** This instance's percentiles since it started, by the same definition as `/stats`. */
  readonly #ttftSketch = new PercentileSketch();
  readonly #durationSketch = new PercentileSketch();

  readonly #requests = new Counter({
    name: `${prefix}requests_total`,
    help: "Chat runs by kind and outcome; runs that ended in an error carry its code",
    labelNames: ["kind", "outcome", "code"] as const,
    registers: [this.#registry],
  });
  readonly #tokens = new Counter({
    name: `${prefix}tokens_total`,
    help: "Tokens by model and direction (input, output; cached_input and reasoning are parts of those)",
    labelNames: ["model", "direction"] as const,
    registers: [this.#registry],
  });
  readonly #cost = new Counter({
    name: `${prefix}cost_usd_total`,
    help: "Cost in US dollars by model",
    labelNames: ["model"] as const,
    registers: [this.#registry],
  });
  readonly #modelRuns = new Counter({
    name: `${prefix}model_requests_total`,
    help: "Chat runs by model",
    labelNames: ["model"] as const,
    registers: [this.#registry],
  });
  readonly #modelCalls = new Counter({
    name: `${prefix}model_calls_total`,
    help: "Calls to the model server (a run with tool rounds makes several) by model and outcome; failed calls carry the error code",
    labelNames: ["model", "outcome", "code"] as const,
    registers: [this.#registry],
  });
  readonly #attempts = new Counter({
    name: `${prefix}model_attempts_total`,
    help: "Attempts at a deployment before a first token, by model, deployment and outcome (answered, failed with its code, skipped at max_concurrent)",
    labelNames: ["model", "deployment", "outcome", "code"] as const,
    registers: [this.#registry],
  });
  readonly #fallbacks = new Counter({
    name: `${prefix}model_fallbacks_total`,
    help: "Answers given by a fallback model instead of the one asked for, by both",
    labelNames: ["asked", "model"] as const,
    registers: [this.#registry],
  });
  readonly #approvals = new Counter({
    name: `${prefix}tool_approvals_total`,
    help: "Tool calls that waited for a person's approval (requested), and how each was decided (approved, denied, timed_out)",
    labelNames: ["decision"] as const,
    registers: [this.#registry],
  });
  readonly #ttft = new Histogram({
    name: `${prefix}ttft_seconds`,
    help: "Time to first token of runs that had one, in seconds",
    buckets: ttftBuckets,
    registers: [this.#registry],
  });
  readonly #duration = new Histogram({
    name: `${prefix}run_duration_seconds`,
    help: "Run duration in seconds, by outcome",
    labelNames: ["outcome"] as const,
    buckets: durationBuckets,
    registers: [this.#registry],
  });
  readonly #toolCalls = new Histogram({
    name: `${prefix}tool_call_duration_seconds`,
    help: "MCP tool calls by server, tool and outcome, and how long they took in seconds (_count: the calls)",
    labelNames: ["server", "tool", "outcome"] as const,
    buckets: toolCallBuckets,
    registers: [this.#registry],
  });

  readonly #read: () => Promise<string>;

  /**
   * `gather`: how a scrape reads these metrics together with other processes' (every worker's,
   * summed in the primary) instead of this registry alone; each metric says how it adds up (its
   * `aggregator`: counters and histograms are summed).
   */
  constructor(sources: MetricsSources, { gather }: { gather?: (registry: Registry) => () => Promise<string> } = {}) {
    const registers = [this.#registry];
    new Gauge({
      name: `${prefix}active_runs`,
      help: "Runs generating now",
      registers,
      collect() {
        this.set(sources.activeRuns());
      },
    });
    new Gauge({
      name: `${prefix}mcp_server_up`,
      help: "1 when the MCP server is connected and its tools are offered, else 0",
      labelNames: ["server"] as const,
      registers,
      // Summed over workers: 1 only when every worker has it.
      aggregator: "min",
      collect() {
        this.reset();
        for (const server of sources.mcpServers())
          this.set({ server: server.name }, server.status === "connected" ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}deployment_usable`,
      help: "1 when the deployment can take a call (not unreachable, not cooling down, not full), else 0",
      labelNames: ["model", "deployment"] as const,
      registers,
      aggregator: "min",
      collect() {
        this.reset();
        for (const status of sources.deployments?.() ?? [])
          this.set({ model: status.model, deployment: status.deployment }, status.usable ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}deployment_in_flight`,
      help: "Calls under way on the deployment",
      labelNames: ["model", "deployment"] as const,
      registers,
      collect() {
        this.reset();
        for (const status of sources.deployments?.() ?? [])
          this.set({ model: status.model, deployment: status.deployment }, status.in_flight);
      },
    });
    percentileGauge(
      `${prefix}ttft_ms`,
      "Time to first token in milliseconds at quantile 0.5, 0.9, 0.99 since this instance started (nearest rank, as /stats)",
      this.#ttftSketch,
      registers,
    );
    percentileGauge(
      `${prefix}run_duration_ms`,
      "Run duration in milliseconds at quantile 0.5, 0.9, 0.99 since this instance started (nearest rank, as /stats)",
      this.#durationSketch,
      registers,
    );
    this.#exposed = Registry.merge([processMetrics(), this.#registry]);
    const exposed = this.#exposed;
    this.#read = gather === undefined ? () => exposed.metrics() : gather(exposed);
  }

  get contentType(): string {
    return this.#exposed.contentType;
  }

  text(): Promise<string> {
    return this.#read();
  }

  record(ended: RunEnded): void {
    const model = this.#modelLabel(ended.model);
    const { terminal, timing } = ended;
    const { usage } = terminal;
    const outcome = outcomeOf(ended);
    if (terminal.type === "error") this.#requests.inc({ kind: ended.kind, outcome, code: terminal.code });
    else this.#requests.inc({ kind: ended.kind, outcome });
    this.#modelRuns.inc({ model });
    this.#tokens.inc({ model, direction: "input" }, usage.input_tokens);
    this.#tokens.inc({ model, direction: "output" }, usage.output_tokens);
    // Parts of input and output, not added to them: sum only "input" and "output" for totals.
    this.#tokens.inc({ model, direction: "cached_input" }, usage.cached_input_tokens);
    this.#tokens.inc({ model, direction: "reasoning" }, usage.reasoning_tokens);
    this.#cost.inc({ model }, usage.total_cost);
    if (timing.ttft_ms !== null) {
      this.#ttft.observe(timing.ttft_ms / 1000);
      this.#ttftSketch.add(timing.ttft_ms);
    }
    this.#duration.observe({ outcome }, timing.duration_ms / 1000);
    this.#durationSketch.add(timing.duration_ms);
  }

  /** One call to the model server ended: `code` null when it finished its answer. */
  recordModelCall(model: string, code: ErrorCode | null): void {
    const label = this.#modelLabel(model);
    if (code === null) this.#modelCalls.inc({ model: label, outcome: "succeeded" });
    else this.#modelCalls.inc({ model: label, outcome: code === "cancelled" ? "cancelled" : "failed", code });
  }

  /** One attempt at a deployment ended before or at its first token (deployments are configured: a bounded set). */
  recordAttempt({ asked, model: name, deployment, outcome, code }: AttemptRecord): void {
    const model = this.#modelLabel(name);
    if (code === undefined) this.#attempts.inc({ model, deployment, outcome });
    else this.#attempts.inc({ model, deployment, outcome, code });
    if (outcome === "answered" && model !== asked) this.#fallbacks.inc({ asked: this.#modelLabel(asked), model });
  }

  /** A tool call's approval was asked for (`requested`), or decided. */
  recordApproval(event: "requested" | ApprovalDecision): void {
    this.#approvals.inc({ decision: event });
  }

  recordToolCall({ server, tool, outcome, durationMs }: ToolCallRecord): void {
    this.#toolCalls.observe({ server, tool, outcome }, durationMs / 1000);
  }

  #modelLabel(model: string): string {
    if (this.#models.has(model)) return model;
    if (this.#models.size >= maxModels) return "other";
    this.#models.add(model);
    return model;
  }
}

/** A gauge per quantile, read from `sketch` at each scrape; absent while it is empty. */
function percentileGauge(name: string, help: string, sketch: PercentileSketch, registers: Registry[]): void {
  new Gauge({
    name,
    help,
    labelNames: ["quantile"] as const,
    registers,
    // Percentiles of several workers do not add up: their sum leaves them out (the histograms and /stats have them).
    aggregator: "omit",
    collect() {
      this.reset();
      for (const quantile of quantiles) {
        const value = sketch.quantile(quantile);
        if (value !== null) this.set({ quantile }, value);
      }
    },
  });
}

let processRegistry: Registry | undefined;

/**
 * Process and event-loop metrics (prom-client's defaults, `brook_` like the rest): one set per
 * process, created with the first server, since a GC observer and an event-loop monitor per
 * server would measure the same process again.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix });
  }
  return processRegistry;
}
