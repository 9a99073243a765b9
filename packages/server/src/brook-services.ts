import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import {
  type Health,
  type Mode,
  type ModelServerStatus,
  type RouteSpec,
  routes,
  type ServiceInfo,
  type ToolList,
} from "@brook/shared";
import type { Logger } from "pino";
import { ApiKeys } from "./access/api-keys.js";
import { executeRun } from "./agent/agent-loop.js";
import { type Config, isDemoMode, runsPerKeyCap } from "./config/config.js";
import type { RunControl, RunExecutor, RunObserver } from "./control/run-control.js";
import { RunController } from "./control/run-controller.js";
import type { ChatModel } from "./models/chat-model.js";
import { DemoChatModel } from "./models/demo-chat-model.js";
import { checkModelServer } from "./models/model-server-check.js";
import { ModelServerMonitor } from "./models/model-server-monitor.js";
import { OpenAIChatModel } from "./models/openai-chat-model.js";
import { TimedChatModel } from "./models/timed-model.js";
import { observeRunEndings } from "./observers/run-endings.js";
import { loadPriceOverrides, PriceTable } from "./pricing/price-table.js";
import { InstanceInbox } from "./redis/instance-inbox.js";
import { RedisChatRuns } from "./redis/redis-chat-runs.js";
import { RedisClients } from "./redis/redis-clients.js";
import { RedisRunChannel } from "./redis/redis-run-channel.js";
import { RedisRunStore } from "./redis/redis-run-store.js";
import { Metrics } from "./stats/metrics.js";
import { RedisRunStats } from "./stats/redis-run-stats.js";
import { MemoryRunStats, type RunStats } from "./stats/run-stats.js";
import type { ChatRuns } from "./storage/chat-runs.js";
import { MemoryChatRuns } from "./storage/memory-chat-runs.js";
import { MemoryRunStore } from "./storage/memory-run-store.js";
import type { RunStore } from "./storage/run-log.js";
import type { Telemetry } from "./telemetry/telemetry.js";
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
  /** The connections to Redis when `REDIS_URL` shares runs, statistics and limits between instances. */
  readonly redis: RedisClients | undefined;
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

export const demoModelName = "brook-demo";

/** How long a check of the model server waits for its answer. */
const modelServerCheckMs = 5_000;

export const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Builds Brook's services from its configuration (the composition root's first half; see createBrook). */
export function createServices(config: Config, log: Logger, telemetry?: Telemetry): BrookServices {
  const demo = isDemoMode(config);
  const adapter: ChatModel = demo
    ? new DemoChatModel(config.DEMO_TOKEN_DELAY_MS)
    : new OpenAIChatModel({
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        maxRetries: config.OPENAI_MAX_RETRIES,
        maxEventBytes: config.MODEL_MAX_EVENT_BYTES,
      });
  const timed: ChatModel = new TimedChatModel(adapter, {
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
    idleMs: config.IDLE_TIMEOUT_MS,
  });
  // Telemetry wraps the model, the tools and the runs once, here; without it nothing is wrapped.
  const model = telemetry === undefined ? timed : telemetry.model(timed);
  const defaultModel = demo ? demoModelName : config.OPENAI_MODEL;
  const overrides = config.MODEL_PRICES === undefined ? undefined : loadPriceOverrides(config.MODEL_PRICES);
  const models = [...new Set([defaultModel, ...Object.keys(overrides ?? {})])];
  const prices = new PriceTable({
    ...(overrides === undefined ? {} : { overrides }),
    onUnpriced: (name) => {
      if (name !== demoModelName)
        log.warn(
          { model: name },
          `No price known for model "${name}": its cost is reported as 0 (add it to MODEL_PRICES).`,
        );
    },
  });
  // One of WORKERS processes (node:cluster), or the only one.
  const worker = cluster.worker?.id;
  const metrics = new Metrics(
    { activeRuns: () => control.activeCount, mcpServers: () => tools.statuses() },
    worker === undefined ? {} : { labels: { worker: String(worker) } },
  );
  const modelServer = demo ? undefined : monitorModelServer(config, defaultModel, log);
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
  });
  // Brook starts without waiting: servers that are down are retried in the background.
  tools.start();
  const startedAt = Date.now();
  const onUnexpected = (error: unknown, runId: string) =>
    log.error({ err: error, run_id: runId }, "run failed with an internal error");
  const activeRuns = () => control.activeCount;
  const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const retention = { retentionMs: config.RUN_RETENTION_MS, retainMax: config.RUN_RETAIN_MAX };
  const redis = config.REDIS_URL === undefined ? undefined : new RedisClients(config.REDIS_URL, redisLog(log));
  const inbox = redis === undefined ? undefined : new InstanceInbox(redis, instanceId);
  const store =
    redis === undefined || inbox === undefined
      ? new MemoryRunStore(retention)
      : new RedisRunStore({
          clients: redis,
          inbox,
          retention,
          leaseMs: config.REDIS_LEASE_MS,
          maxRunMs: config.MAX_RUN_MS,
          log: redisLog(log),
        });
  const stats: RunStats & { close?(): void } =
    redis === undefined ? new MemoryRunStats(activeRuns) : new RedisRunStats(redis, instanceId, activeRuns);
  // Brook starts whether or not Redis is up; /health says how it is.
  redis?.connect();
  const chatRuns: ChatRuns =
    redis === undefined
      ? // Room for every run the store may still hold.
        new MemoryChatRuns(Math.max(10_000, config.RUN_RETAIN_MAX + config.MAX_CONCURRENT_RUNS))
      : new RedisChatRuns(redis, (config.MAX_RUN_MS > 0 ? config.MAX_RUN_MS : 86_400_000) + config.RUN_RETENTION_MS);
  const agentTools = tools.configured ? tools : undefined;
  const runTools = agentTools === undefined || telemetry === undefined ? agentTools : telemetry.tools(agentTools);
  const execute: RunExecutor = (run, request) =>
    executeRun(run, request, {
      model,
      prices,
      defaultSystemPrompt: config.SYSTEM_PROMPT,
      tools: runTools,
      maxToolSteps: config.MAX_TOOL_STEPS,
      maxToolCallsPerStep: config.MAX_TOOL_CALLS_PER_STEP,
      toolConcurrency: config.TOOL_CONCURRENCY,
      onInternalError: onUnexpected,
      onModelCall: (name, code) => metrics.recordModelCall(name, code),
    });
  const control: RunControl = new RunController({
    store,
    channel: redis === undefined || inbox === undefined ? undefined : new RedisRunChannel(redis, inbox),
    execute: telemetry === undefined ? execute : telemetry.runs(execute),
    onUnexpected,
    observers: [
      observeRunEndings({ stats, metrics, log, logContent: config.LOG_CONTENT }),
      ...(modelServer === undefined ? [] : [observeModelCalls(modelServer)]),
    ],
    defaultModel,
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
    },
  });
  const mode: Mode = demo ? "demo" : "openai";
  const apiKeys = new ApiKeys(config.BROOK_API_KEYS, config.BROOK_ADMIN_KEYS);
  // Callbacks run last to first: runs' last events reach the store and Redis before it closes,
  // and MCP connections close once the runs that used them have ended.
  const closeCallbacks: (() => Promise<void> | void)[] = [
    () => redis?.close(),
    () => tools.close(),
    () => modelServer?.stop(),
    () => adapter.close?.(),
    () => stats.close?.(),
    () => store.close(),
    () => chatRuns.close(),
  ];
  let closing: Promise<void> | undefined;

  return {
    config,
    log,
    mode,
    defaultModel,
    version,
    control,
    store,
    chatRuns,
    models,
    startedAtS: Math.floor(startedAt / 1000),
    stats,
    metrics,
    tools,
    apiKeys,
    redis,
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
    health: () => ({
      status: control.draining ? "draining" : "ok",
      ready: !control.draining && (redis === undefined || redis.connected) && modelServer?.state !== "unreachable",
      ...(redis === undefined ? {} : { redis: redis.state }),
      streaming: true,
      mode,
      model: defaultModel,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      active_runs: control.activeCount,
      mcp_servers: tools.statuses(),
      auth_required: apiKeys.required,
      model_server: modelServer?.status() ?? demoModelServer,
      ...(worker === undefined ? {} : { worker }),
    }),
    toolList: () => ({ tools: tools.list() }),
    info: () => ({ name: "Brook", status: "running", version, mode, model: defaultModel, endpoints: endpoints() }),
  };
}

const demoModelServer: ModelServerStatus = {
  status: "unchecked",
  detail: "Demo mode: there is no model server to check.",
  checked_at: null,
};

/**
 * Asks the model server, in the background, whether the key and the base URL work, at start-up
 * and every MODEL_CHECK_INTERVAL_MS: Brook listens at once and serves whatever the answer; a
 * failure is one warning line and `/health` says it.
 */
function monitorModelServer(config: Config, model: string, log: Logger): ModelServerMonitor {
  const monitor = new ModelServerMonitor({
    check: (signal) =>
      checkModelServer({
        baseURL: config.OPENAI_BASE_URL,
        apiKey: config.OPENAI_API_KEY,
        model,
        timeoutMs: modelServerCheckMs,
        signal,
      }),
    intervalMs: config.MODEL_CHECK_INTERVAL_MS,
    log: { info: (message) => log.info(message), warn: (message) => log.warn(message) },
  });
  monitor.start();
  return monitor;
}

/** Runs tell what their model calls met: no connection marks the model server down, an answer up. */
function observeModelCalls(monitor: ModelServerMonitor): RunObserver {
  return ({ terminal }) => {
    if (terminal.type === "complete") monitor.answered();
    else if (terminal.code === "upstream_unreachable") monitor.unreachable();
  };
}

/** `"METHOD /path"` → what it does, for `GET /`. */
function endpoints(): Record<string, string> {
  const listed: Record<string, string> = {};
  for (const route of Object.values(routes) as RouteSpec[]) {
    if (route.prefix && route.page) continue;
    for (const [method, summary] of Object.entries(route.methods)) listed[`${method} ${route.path}`] = summary;
  }
  return listed;
}

function redisLog(log: Logger) {
  return { info: (message: string) => log.info(message), warn: (message: string) => log.warn(message) };
}
