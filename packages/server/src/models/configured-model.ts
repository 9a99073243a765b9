import type { ModelServerStatus } from "@brook/shared";
import type { Logger } from "pino";
import { type Config, isDemoMode } from "../config/config.js";
import { loadPriceOverrides, PriceTable } from "../pricing/price-table.js";
import type { ChatModel } from "./chat-model.js";
import { DemoChatModel } from "./demo-chat-model.js";
import { checkModelServer } from "./model-server-check.js";
import { ModelServerMonitor } from "./model-server-monitor.js";
import { OpenAIChatModel } from "./openai-chat-model.js";
import { TimedChatModel } from "./timed-model.js";

export const demoModelName = "brook-demo";

/** How long a check of the model server waits for its answer. */
const modelServerCheckMs = 5_000;

/** The model Brook talks to, as configured: the adapter with its timeouts, names, prices and the model server's check. */
export interface ConfiguredModel {
  readonly model: ChatModel;
  /** Default model of requests that name none. */
  readonly defaultModel: string;
  /** The models Brook names (`GET /v1/models`): the default, then those MODEL_PRICES prices. */
  readonly models: readonly string[];
  readonly prices: PriceTable;
  /** Watches the model server; undefined in demo mode, where there is none. */
  readonly modelServer: ModelServerMonitor | undefined;
  /** What Brook last learnt of the model server. */
  modelServerStatus(): ModelServerStatus;
  /** Stops the check and frees the adapter's connections. */
  close(): Promise<void>;
}

/** Builds the model from configuration; outside demo mode, the model server's check starts in the background. */
export function configureModel(config: Config, log: Logger): ConfiguredModel {
  const demo = isDemoMode(config);
  const adapter: ChatModel = demo
    ? new DemoChatModel(config.DEMO_TOKEN_DELAY_MS)
    : new OpenAIChatModel({
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        maxRetries: config.OPENAI_MAX_RETRIES,
        maxEventBytes: config.MODEL_MAX_EVENT_BYTES,
      });
  const model: ChatModel = new TimedChatModel(adapter, {
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
    idleMs: config.IDLE_TIMEOUT_MS,
  });
  const defaultModel = demo ? demoModelName : config.OPENAI_MODEL;
  const overrides = config.MODEL_PRICES === undefined ? undefined : loadPriceOverrides(config.MODEL_PRICES);
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
  const modelServer = demo ? undefined : monitorModelServer(config, defaultModel, log);
  return {
    model,
    defaultModel,
    models: [...new Set([defaultModel, ...Object.keys(overrides ?? {})])],
    prices,
    modelServer,
    modelServerStatus: () => modelServer?.status() ?? demoModelServer,
    close: async () => {
      await adapter.close?.();
      await modelServer?.stop();
    },
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
