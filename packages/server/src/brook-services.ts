import { readFileSync } from "node:fs";
import type { Health, Mode, ParsedChatRequest, ServiceInfo, TerminalEvent, ToolList } from "@brook/shared";
import type { FastifyBaseLogger } from "fastify";
import { ApiKeys } from "./access/api-keys.js";
import { type Config, isDemoMode } from "./config/config.js";
import { executeRun } from "./engine/agent-loop.js";
import { RunEngine } from "./engine/run-engine.js";
import type { ChatModel } from "./models/chat-model.js";
import { DemoChatModel } from "./models/demo-chat-model.js";
import { OpenAIChatModel } from "./models/openai-chat-model.js";
import { TimedChatModel } from "./models/timed-model.js";
import { loadPriceOverrides, PriceTable } from "./pricing/price-table.js";
import { StatsCollector } from "./stats/stats-collector.js";
import { loadMcpServers } from "./tools/mcp-servers-config.js";
import { ToolRegistry } from "./tools/tool-registry.js";

/** Everything the HTTP and tRPC surfaces share: one engine, one stats collector, one config. */
export interface BrookServices {
  readonly config: Config;
  readonly mode: Mode;
  readonly defaultModel: string;
  readonly version: string;
  readonly engine: RunEngine;
  readonly stats: StatsCollector;
  /** The MCP tools; it has no servers when none is configured. */
  readonly tools: ToolRegistry;
  readonly apiKeys: ApiKeys;
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

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

export function createServices(config: Config, log: FastifyBaseLogger): BrookServices {
  const demo = isDemoMode(config);
  const adapter: ChatModel = demo
    ? new DemoChatModel(config.DEMO_TOKEN_DELAY_MS)
    : new OpenAIChatModel({
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        maxRetries: config.OPENAI_MAX_RETRIES,
      });
  const model: ChatModel = new TimedChatModel(adapter, {
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
    idleMs: config.IDLE_TIMEOUT_MS,
  });
  const defaultModel = demo ? demoModelName : config.OPENAI_MODEL;
  const prices = new PriceTable({
    ...(config.MODEL_PRICES === undefined ? {} : { overrides: loadPriceOverrides(config.MODEL_PRICES) }),
    onUnpriced: (name) => {
      if (name !== demoModelName)
        log.warn(
          { model: name },
          `No price known for model "${name}": its cost is reported as 0 (add it to MODEL_PRICES).`,
        );
    },
  });
  const tools = new ToolRegistry({
    servers: loadMcpServers(config),
    clientInfo: { name: "brook", version },
    retryMaxMs: config.MCP_RETRY_MAX_MS,
    timeoutMs: config.TOOL_TIMEOUT_MS,
    resultMaxChars: config.TOOL_RESULT_CHARS,
    log: { info: (message) => log.info(message), warn: (message) => log.warn(message) },
  });
  // Brook starts without waiting: servers that are down are retried in the background.
  tools.start();
  const startedAt = Date.now();
  const onInternalError = (error: unknown, run: { id: string }) =>
    log.error({ err: error, run_id: run.id }, "run failed with an internal error");
  const engine: RunEngine = new RunEngine(
    {
      graceMs: config.RUN_GRACE_MS,
      retentionMs: config.RUN_RETENTION_MS,
      retainMax: config.RUN_RETAIN_MAX,
      bufferEvents: config.RUN_BUFFER_EVENTS,
      defaultModel,
      maxConcurrent: config.MAX_CONCURRENT_RUNS,
      maxRunMs: config.MAX_RUN_MS,
      limits: {
        maxMessageChars: config.MAX_MESSAGE_CHARS,
        maxHistoryMessages: config.MAX_HISTORY_MESSAGES,
        maxTokens: config.MAX_TOKENS_LIMIT,
      },
    },
    async (run, request) => {
      await executeRun(run, request, {
        model,
        prices,
        stats,
        defaultSystemPrompt: config.SYSTEM_PROMPT,
        tools: tools.configured ? tools : undefined,
        maxToolSteps: config.MAX_TOOL_STEPS,
        onInternalError,
      });
      logRun(log, run.id, run.model, run.terminal, config.LOG_CONTENT ? request : undefined);
    },
    onInternalError,
  );
  const stats = new StatsCollector(() => engine.activeCount);
  const mode: Mode = demo ? "demo" : "openai";
  const apiKeys = new ApiKeys(config.BROOK_API_KEYS);
  // MCP connections close last: the runs that used them have ended by then.
  const closeCallbacks: (() => Promise<void> | void)[] = [() => tools.close(), () => adapter.close?.()];
  let closing: Promise<void> | undefined;

  return {
    config,
    mode,
    defaultModel,
    version,
    engine,
    stats,
    tools,
    apiKeys,
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
      status: engine.draining ? "draining" : "ok",
      streaming: true,
      mode,
      model: defaultModel,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      active_runs: engine.activeCount,
      mcp_servers: tools.statuses(),
      auth_required: apiKeys.required,
    }),
    toolList: () => ({ tools: tools.list() }),
    info: () => ({
      name: "Brook",
      status: "running",
      version,
      mode,
      model: defaultModel,
      endpoints: {
        "POST /chat/stream": "stream a reply as Server-Sent Events",
        "GET /chat/stream?message=…": "the same stream for EventSource",
        "POST /chat": "the whole reply as one JSON answer",
        "GET /health": "health and mode",
        "GET /stats": "usage statistics",
        "POST /reset-stats": "reset usage statistics",
        "GET /metrics": "Prometheus metrics",
        "GET /tools": "the MCP tools the model can use",
        "/trpc": "typed tRPC API (see @brook/client)",
      },
    }),
  };
}

/**
 * One line per finished run: what operators need, and the conversation itself only when
 * LOG_CONTENT asks for it (`content` is then the request).
 */
function logRun(
  log: FastifyBaseLogger,
  runId: string,
  model: string,
  terminal: TerminalEvent | undefined,
  content: ParsedChatRequest | undefined,
): void {
  if (terminal === undefined) return;
  const { usage } = terminal;
  const fields = {
    run_id: runId,
    model,
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cost: usage.total_cost,
    ...(content === undefined
      ? {}
      : {
          message: content.message,
          ...(terminal.type === "complete" ? { response: terminal.full_content } : {}),
        }),
  };
  if (terminal.type === "complete") log.info({ ...fields, duration_ms: terminal.timing.duration_ms }, "run complete");
  else log.info({ ...fields, code: terminal.code }, "run failed");
}
