import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Health, Mode, ServiceInfo, ToolList } from "@brook/shared";
import type { Logger } from "pino";
import { ApiKeys } from "./access/api-keys.js";
import { executeRun } from "./agent/agent-loop.js";
import type { Backend, BackendOptions } from "./backends/backend.js";
import { memoryBackend } from "./backends/memory-backend.js";
import { healthOf, serviceInfo } from "./brook-status.js";
import { type Config, isDemoMode, runsPerKeyCap } from "./config/config.js";
import type { RunControl, RunExecutor } from "./control/run-control.js";
import { RunController } from "./control/run-controller.js";
import { type ConfiguredModel, configureModel } from "./models/configured-model.js";
import { holdTokenWorker } from "./models/token-worker.js";
import { observeRunEndings } from "./observers/run-endings.js";
import { createRedisBackend } from "./redis/redis-backend.js";
import { Metrics } from "./stats/metrics.js";
import type { RunStats } from "./stats/run-stats.js";
import { workerMetrics } from "./stats/worker-metrics.js";
import type { ChatRuns } from "./storage/chat-runs.js";
import type { RunStore } from "./storage/run-log.js";
import type { Telemetry } from "./telemetry/telemetry.js";
import { DemoTools } from "./tools/demo-tools.js";
import { loadMcpServers } from "./tools/mcp-servers-config.js";
import { ToolRegistry } from "./tools/tool-registry.js";

/** Everything the surfaces share: the runs, their storage, statistics, tools, keys and config. */
export interface BrookServices {
  readonly config: Config;
  readonly log: Logger;
  readonly mode: Mode;
  readonly defaultModel: string;
  readonly version: string;
  /** Starts, finds and cancels runs. */
  readonly control: RunControl;
  /** Where runs' events are kept. */
  readonly store: RunStore;
  /** The AI SDK surface's chats and their latest runs. */
  readonly chatRuns: ChatRuns;
  /** The models Brook names (`GET /v1/models`): the default, then those MODEL_PRICES prices. */
  readonly models: readonly string[];
  /** Unix seconds when this instance started. */
  readonly startedAtS: number;
  /** The statistics of `/stats` (reset by `/reset-stats`). */
  readonly stats: RunStats;
  /** This instance's Prometheus metrics (`/metrics`), never reset. */
  readonly metrics: Metrics;
  /** The MCP tools; it has no servers when none is configured. */
  readonly tools: ToolRegistry;
  readonly apiKeys: ApiKeys;
  /** Where runs, chats' runs, statistics and rate-limit counts live: this process, or shared (`REDIS_URL`). */
  readonly backend: Backend;
  /** This process among the instances that share a Redis. */
  readonly instanceId: string;
  /** OpenTelemetry when OTEL_EXPORTER_OTLP_ENDPOINT is set; its HTTP plugin goes on the app. */
  readonly telemetry: Telemetry | undefined;
  health(): Health;
  info(): ServiceInfo;
  toolList(): ToolList;
  /**
   * Registers work to do at shutdown, after the last run ended (closing MCP connections and the
   * like). Callbacks run in reverse order of registration; a failing one does not stop the others.
   */
  onClose(callback: () => Promise<void> | void): void;
  /** Runs the close callbacks (once). */
  close(): Promise<void>;
}

export { demoModelName } from "./models/configured-model.js";

export const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Builds Brook's services from its configuration (the composition root's first half; see createBrook). */
export function createServices(config: Config, log: Logger, telemetry?: Telemetry): BrookServices {
  const configured = configureModel(config, log, { onAttempt: (record) => metrics.recordAttempt(record) });
  // Telemetry wraps the model, the tools and the runs once, here; without it nothing is wrapped.
  const model: ConfiguredModel =
    telemetry === undefined ? configured : { ...configured, model: telemetry.model(configured.model) };
  const { defaultModel } = model;
  // One of WORKERS processes (node:cluster), or the only one.
  const worker = cluster.worker?.id;
  const metrics = new Metrics(
    {
      activeRuns: () => control.activeCount,
      mcpServers: () => tools.statuses(),
      deployments: () => model.deployments(),
    },
    // A worker's /metrics is every worker's, summed by the primary.
    worker === undefined ? {} : { gather: workerMetrics },
  );
  const startedAt = Date.now();
  const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const shared = backendOptions(config, log, instanceId, () => control.activeCount);
  // Brook starts whether or not a shared backend is up; /health says how it is.
  const backend =
    config.REDIS_URL === undefined
      ? memoryBackend(shared)
      : createRedisBackend({
          ...shared,
          url: config.REDIS_URL,
          leaseMs: config.REDIS_LEASE_MS,
          oauthKey: config.MCP_OAUTH_KEY,
          mirrorWindowMs: config.REDIS_MIRROR_WINDOW_MS,
          mirrorUnwatchedWindowMs: config.REDIS_MIRROR_UNWATCHED_WINDOW_MS,
        });
  // The OAuth grants of MCP servers live in the backend: instances share them.
  const tools = startTools(config, log, metrics, telemetry, backend);
  // Demo mode with no MCP server offers a pretend tool that needs approval: the flow, offline.
  const demoTools = isDemoMode(config) && !tools.configured ? new DemoTools() : undefined;
  const { store, chatRuns, stats } = backend;
  const onUnexpected = (error: unknown, runId: string) =>
    log.error({ err: error, run_id: runId }, "run failed with an internal error");
  const control = createRunControl(config, {
    model,
    tools: demoTools ?? tools,
    metrics,
    backend,
    onUnexpected,
    log,
    telemetry,
  });
  const mode: Mode = isDemoMode(config) ? "demo" : "openai";
  const apiKeys = new ApiKeys(config.BROOK_API_KEYS, config.BROOK_ADMIN_KEYS);
  // Callbacks run last to first: runs' last events reach the backend before it closes, and MCP
  // connections close once the runs that used them have ended.
  // The tokenizer's thread (local token counts) is the process's; it ends with the last Brook closed.
  const releaseTokenWorker = holdTokenWorker();
  const closeCallbacks: (() => Promise<void> | void)[] = [
    () => releaseTokenWorker(),
    () => tools.close(),
    () => model.close(),
    () => backend.close(),
  ];
  let closing: Promise<void> | undefined;
  const status = { mode, version, startedAt, control, model, backend, tools, apiKeys };

  return {
    config,
    log,
    mode,
    defaultModel,
    version,
    control,
    store,
    chatRuns,
    models: model.models,
    startedAtS: Math.floor(startedAt / 1000),
    stats,
    metrics,
    tools,
    apiKeys,
    backend,
    instanceId,
    telemetry,
    onClose: (callback) => {
      closeCallbacks.push(callback);
    },
    close: () => {
      closing ??= (async () => {
        for (const callback of closeCallbacks.reverse()) {
          try {
            await callback();
          } catch (error) {
            log.error({ err: error }, "a shutdown step failed");
          }
        }
      })();
      return closing;
    },
    health: () => ({ ...healthOf(status), ...(worker === undefined ? {} : { worker }) }),
    toolList: () => ({ tools: demoTools?.list() ?? tools.list(), servers: tools.statuses() }),
    info: () => serviceInfo(mode, version, defaultModel),
  };
}

interface RunControlParts {
  model: ConfiguredModel;
  /** The MCP tools, or demo mode's own. */
  tools: ToolRegistry | DemoTools;
  metrics: Metrics;
  backend: Backend;
  onUnexpected: (error: unknown, runId: string) => void;
  log: Logger;
  telemetry: Telemetry | undefined;
}

/** Runs: the agent loop over the model and the tools, kept in the backend, observed when they end. */
function createRunControl(
  config: Config,
  { model, tools, metrics, backend, onUnexpected, log, telemetry }: RunControlParts,
): RunControl {
  const agentTools = tools instanceof DemoTools || tools.configured ? tools : undefined;
  const runTools = agentTools === undefined || telemetry === undefined ? agentTools : telemetry.tools(agentTools);
  const execute: RunExecutor = (run, request) =>
    executeRun(run, request, {
      model: model.model,
      prices: model.prices,
      defaultSystemPrompt: config.SYSTEM_PROMPT,
      tools: runTools,
      maxToolSteps: config.MAX_TOOL_STEPS,
      toolImageLimits: { maxAttachmentBytes: config.MAX_ATTACHMENT_BYTES, maxAttachments: config.MAX_ATTACHMENTS },
      maxToolCallsPerStep: config.MAX_TOOL_CALLS_PER_STEP,
      toolConcurrency: config.TOOL_CONCURRENCY,
      approvalTimeoutMs: config.APPROVAL_TIMEOUT_MS,
      inputTimeoutMs: config.INPUT_TIMEOUT_MS,
      onApproval: (event) => {
        metrics.recordApproval(event);
        backend.stats.recordApproval(event);
      },
      onInternalError: onUnexpected,
      onModelCall: (name, code) => metrics.recordModelCall(name, code),
    });
  return new RunController({
    store: backend.store,
    channel: backend.channel,
    execute: telemetry === undefined ? execute : telemetry.runs(execute),
    onUnexpected,
    observers: [observeRunEndings({ stats: backend.stats, metrics, log, logContent: config.LOG_CONTENT })],
    defaultModel: model.defaultModel,
    checkModel: (name) => model.checkModel(name),
    graceMs: config.RUN_GRACE_MS,
    bufferEvents: config.RUN_BUFFER_EVENTS,
    bufferBytes: config.RUN_BUFFER_BYTES,
    maxBytes: config.RUN_MAX_BYTES,
    maxConcurrent: config.MAX_CONCURRENT_RUNS,
    maxPerOwner: runsPerKeyCap(config),
    maxRunMs: config.MAX_RUN_MS,
    limits: {
      maxMessageChars: config.MAX_MESSAGE_CHARS,
      maxHistoryMessages: config.MAX_HISTORY_MESSAGES,
      maxTokens: config.MAX_TOKENS_LIMIT,
      maxAttachmentBytes: config.MAX_ATTACHMENT_BYTES,
      maxAttachments: config.MAX_ATTACHMENTS,
    },
  });
}

/** The MCP tools; Brook starts without waiting: servers that are down are retried in the background. */
function startTools(
  config: Config,
  log: Logger,
  metrics: Metrics,
  telemetry: Telemetry | undefined,
  backend: Backend,
): ToolRegistry {
  const tools = new ToolRegistry({
    servers: loadMcpServers(config),
    clientInfo: { name: "brook", version },
    retryMaxMs: config.MCP_RETRY_MAX_MS,
    pingIntervalMs: config.MCP_PING_INTERVAL_MS,
    timeoutMs: config.TOOL_TIMEOUT_MS,
    resultMaxChars: config.TOOL_RESULT_CHARS,
    fetch: telemetry?.mcpFetch,
    log: { info: (message) => log.info(message), warn: (message) => log.warn(message) },
    onCall: (record) => metrics.recordToolCall(record),
    approval: config.TOOL_APPROVAL,
    tokenStore: backend.oauthTokens,
    publicUrl: config.PUBLIC_URL,
  });
  tools.start();
  return tools;
}

function backendOptions(config: Config, log: Logger, instanceId: string, activeRuns: () => number): BackendOptions {
  return {
    instanceId,
    retention: { retentionMs: config.RUN_RETENTION_MS, retainMax: config.RUN_RETAIN_MAX },
    maxRunMs: config.MAX_RUN_MS,
    maxConcurrentRuns: config.MAX_CONCURRENT_RUNS,
    activeRuns,
    log: { info: (message) => log.info(message), warn: (message) => log.warn(message) },
  };
}
