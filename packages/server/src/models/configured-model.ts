import type { DeploymentStatus, ModelServerStatus } from "@brook/shared";
import type { Logger } from "pino";
import { type Config, isDemoMode } from "../config/config.js";
import { InputError } from "../errors/input-error.js";
import { loadPriceOverrides, PriceTable } from "../pricing/price-table.js";
import type { ChatModel } from "./chat-model.js";
import { DemoChatModel } from "./demo-chat-model.js";
import { type Deployment, loadModelCatalog, type ModelCatalog, singleServerCatalog } from "./model-catalog.js";
import { type AttemptRecord, isUsable, ModelRouter } from "./model-router.js";
import { checkModelServer } from "./model-server-check.js";
import { ModelServerMonitor } from "./model-server-monitor.js";
import { OpenAIChatModel } from "./openai-chat-model.js";
import { TimedChatModel } from "./timed-model.js";

export const demoModelName = "brook-demo";

/** How long a check of the model server waits for its answer. */
const modelServerCheckMs = 5_000;

/** The model Brook talks to, as configured: the adapter with its timeouts, names, prices and the model servers' checks. */
export interface ConfiguredModel {
  readonly model: ChatModel;
  /** Default model of requests that name none. */
  readonly defaultModel: string;
  /** The models Brook names (`GET /v1/models`): those of MODELS, else the default, then those MODEL_PRICES prices. */
  readonly models: readonly string[];
  readonly prices: PriceTable;
  /** Watches the default model's first model server; undefined in demo mode, where there is none. */
  readonly modelServer: ModelServerMonitor | undefined;
  /** The router over the deployments; undefined in demo mode. */
  readonly router: ModelRouter | undefined;
  /** What Brook last learnt of the default model's first model server. */
  modelServerStatus(): ModelServerStatus;
  /** Each deployment's state, for `/health`; empty in demo mode. */
  deployments(): DeploymentStatus[];
  /** A deployment of the default model can take a call (always in demo mode). */
  ready(): boolean;
  /** Throws a 400 naming the known models when `name` is none of them (MODELS); any name passes otherwise. */
  checkModel(name: string): void;
  /** Stops the checks and frees the adapters' connections. */
  close(): Promise<void>;
}

export interface ConfigureModelOptions {
  /** Where `api_key_env` looks (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Told of each attempt at a deployment (metrics). */
  onAttempt?: (record: AttemptRecord) => void;
}

/** Builds the model from configuration; outside demo mode, each model server's check starts in the background. */
export function configureModel(config: Config, log: Logger, options: ConfigureModelOptions = {}): ConfiguredModel {
  if (isDemoMode(config)) return demoModel(config, log);
  const catalog =
    config.MODELS === undefined
      ? singleServerCatalog({
          baseURL: config.OPENAI_BASE_URL,
          apiKey: config.OPENAI_API_KEY,
          model: config.OPENAI_MODEL,
        })
      : loadModelCatalog(config.MODELS, options.env ?? process.env);
  const defaultModel = catalog.models[0]?.name ?? config.OPENAI_MODEL;
  const overrides = config.MODEL_PRICES === undefined ? {} : loadPriceOverrides(config.MODEL_PRICES);
  const prices = new PriceTable({
    // A model's prices in MODELS come before MODEL_PRICES.
    overrides: {
      ...overrides,
      ...Object.fromEntries(catalog.models.flatMap((model) => (model.prices ? [[model.name, model.prices]] : []))),
    },
    aliases: aliasesOf(catalog),
    onUnpriced: (name) =>
      log.warn(
        { model: name },
        `No price known for model "${name}": its cost is reported as 0 (add prices to its MODELS entry or to MODEL_PRICES).`,
      ),
  });
  const monitors = new Map<string, ModelServerMonitor>();
  const adapters = new Map<string, ChatModel>();
  for (const model of catalog.models) {
    const alone = catalog.models.length === 1 && model.deployments.length === 1;
    for (const deployment of model.deployments) {
      adapters.set(
        deployment.id,
        new OpenAIChatModel({
          apiKey: deployment.apiKey,
          baseURL: deployment.baseURL,
          // With somewhere else to go, Brook moves on at once rather than asking the same server again.
          maxRetries: alone || model.fallbacks.length === 0 ? config.OPENAI_MAX_RETRIES : 0,
          maxEventBytes: config.MODEL_MAX_EVENT_BYTES,
          headers: deployment.headers,
        }),
      );
      monitors.set(deployment.id, monitorModelServer(config, deployment, alone, log));
    }
  }
  const router = new ModelRouter({
    catalog,
    adapters,
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
    fallbackMs: config.FALLBACK_TIMEOUT_MS,
    cooldownMs: config.MODEL_COOLDOWN_MS,
    unreachable: (deployment) => monitors.get(deployment.id)?.state === "unreachable",
    onAttempt: (record, error) => {
      const monitor = monitors.get(record.deployment);
      if (record.outcome === "answered") monitor?.answered();
      else if (error?.code === "upstream_unreachable") monitor?.unreachable();
      options.onAttempt?.(record);
    },
  });
  // The router keeps the first-token clock (it spans the attempts); the idle one stays here.
  const model: ChatModel = new TimedChatModel(router, { firstTokenMs: 0, idleMs: config.IDLE_TIMEOUT_MS });
  const first = catalog.models[0]?.deployments[0];
  const modelServer = first === undefined ? undefined : monitors.get(first.id);
  const names = catalog.models.map((entry) => entry.name);
  return {
    model,
    defaultModel,
    models: catalog.open ? [...new Set([...names, ...Object.keys(overrides)])] : names,
    prices,
    modelServer,
    router,
    modelServerStatus: () => modelServer?.status() ?? demoModelServer,
    deployments: () => {
      const now = Date.now();
      return router.states().map((state) => ({
        model: state.deployment.name,
        deployment: state.deployment.id,
        usable: isUsable(state, now),
        server: monitors.get(state.deployment.id)?.status() ?? demoModelServer,
        cooling_down_until: state.coolingUntil > now ? new Date(state.coolingUntil).toISOString() : null,
        in_flight: state.inFlight,
        max_concurrent: state.deployment.maxConcurrent ?? null,
        attempts: state.attempts,
        failures: state.failures,
        last_error:
          state.lastError === undefined ? null : { ...state.lastError, at: new Date(state.lastError.at).toISOString() },
      }));
    },
    ready: () => router.usable(defaultModel),
    checkModel: (name) => {
      if (catalog.open || names.includes(name)) return;
      throw new InputError(
        { model: [`unknown model "${name}"; known models: ${names.join(", ")}`] },
        `Unknown model "${name}": Brook knows ${names.map((known) => `"${known}"`).join(", ")}.`,
      );
    },
    close: async () => {
      await router.close();
      await Promise.all([...monitors.values()].map((monitor) => monitor.stop()));
    },
  };
}

/** Names priced as the model their server runs, when they have no price of their own. */
function aliasesOf(catalog: ModelCatalog): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const model of catalog.models) {
    const upstream = model.deployments[0]?.upstreamModel;
    if (model.prices === undefined && upstream !== undefined && upstream !== model.name) aliases[model.name] = upstream;
  }
  return aliases;
}

function demoModel(config: Config, log: Logger): ConfiguredModel {
  const adapter = new DemoChatModel(config.DEMO_TOKEN_DELAY_MS);
  const model: ChatModel = new TimedChatModel(adapter, {
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT_MS,
    idleMs: config.IDLE_TIMEOUT_MS,
  });
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
  return {
    model,
    defaultModel: demoModelName,
    models: [...new Set([demoModelName, ...Object.keys(overrides ?? {})])],
    prices,
    modelServer: undefined,
    router: undefined,
    modelServerStatus: () => demoModelServer,
    deployments: () => [],
    ready: () => true,
    checkModel: () => {},
    close: async () => {},
  };
}

const demoModelServer: ModelServerStatus = {
  status: "unchecked",
  detail: "Demo mode: there is no model server to check.",
  checked_at: null,
};

/**
 * Asks a model server, in the background, whether the key and the base URL work, at start-up
 * and every MODEL_CHECK_INTERVAL_MS: Brook listens at once and serves whatever the answer; a
 * failure is one warning line (naming the deployment when there are several) and `/health` says it.
 */
function monitorModelServer(config: Config, deployment: Deployment, alone: boolean, log: Logger): ModelServerMonitor {
  const named = (message: string) => (alone ? message : `${deployment.id}: ${message}`);
  const monitor = new ModelServerMonitor({
    check: (signal) =>
      checkModelServer({
        baseURL: deployment.baseURL,
        apiKey: deployment.apiKey,
        model: deployment.upstreamModel,
        timeoutMs: modelServerCheckMs,
        signal,
      }),
    intervalMs: config.MODEL_CHECK_INTERVAL_MS,
    log: { info: (message) => log.info(named(message)), warn: (message) => log.warn(named(message)) },
  });
  monitor.start();
  return monitor;
}
