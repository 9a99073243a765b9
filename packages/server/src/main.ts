import cluster from "node:cluster";
import { existsSync } from "node:fs";
import { type Brook, createBrook, localUrl } from "./brook.js";
import { runPrimary, workerMessages } from "./cluster/cluster-primary.js";
import { type Config, isDemoMode, parseConfig } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { createLogger } from "./surfaces/logger.js";

/** A setting Brook cannot start with is one line, never a stack trace. */
function stop(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`brook: ${error.message}`);
  process.exit(1);
}

/** The line that says where Brook serves, and with what model. */
function startLine(config: Config, url: string, workers: string): { demo: boolean; text: string } {
  if (isDemoMode(config)) {
    return {
      demo: true,
      text: `Brook is in DEMO MODE at ${url}${workers}: no OPENAI_API_KEY or OPENAI_BASE_URL is set, so replies come from an offline demo model. Set one of them to use a real model.`,
    };
  }
  if (config.MODELS !== undefined) {
    return { demo: false, text: `Brook is streaming at ${url}${workers} with the models of ${config.MODELS}` };
  }
  return {
    demo: false,
    text: `Brook is streaming at ${url}${workers} with model ${config.OPENAI_MODEL} via ${config.OPENAI_BASE_URL ?? "https://api.openai.com/v1"}`,
  };
}

if (existsSync(".env")) process.loadEnvFile(".env");

let config: Config;
try {
  config = parseConfig(process.env);
} catch (error) {
  stop(error);
}

if (config.WORKERS > 1 && cluster.isPrimary) {
  const log = createLogger(config);
  runPrimary({
    workers: config.WORKERS,
    log,
    onListening: ({ port }) => {
      const line = startLine(config, localUrl(config.HOST, port), ` with ${config.WORKERS} workers`);
      if (line.demo) log.warn(line.text);
      else log.info(line.text);
    },
  });
} else {
  await serve(config);
}

/** One process serving, alone or as one of WORKERS (the primary then says where Brook listens). */
async function serve(config: Config): Promise<void> {
  let brook: Brook | undefined;
  // SIGTERM/SIGINT (or the primary's word): drain (DRAIN_TIMEOUT_MS), end what is left with
  // `shutdown`, exit 0. A second signal does not wait any more. A terminal's Ctrl-C reaches a
  // worker both directly and through the primary: that is one request to stop, not two.
  let stopping = false;
  let signals = 0;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    if (brook === undefined) process.exit(0);
    const { log } = brook.app;
    log.info(`${reason}: shutting down`);
    brook.close().then(
      () => {
        log.info("shut down");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  const stopNow = (reason: string) => {
    brook?.app.log.warn(`${reason}: stopping now`);
    process.exit(1);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => (++signals > 1 ? stopNow(`${signal} again`) : shutdown(signal)));
  }
  if (cluster.isWorker) {
    process.on("message", (message) => {
      if (message === workerMessages.shutdown) shutdown("the primary's shutdown");
      if (message === workerMessages.stopNow) stopNow("the primary's second signal");
    });
  }

  brook = await createBrook(config).catch(stop);
  const started = brook;
  const url = await started.listen().catch(async (error: unknown) => {
    await started.close({ drainMs: 0 });
    return stop(error);
  });
  if (cluster.isWorker) return;
  const line = startLine(config, url, "");
  if (line.demo) brook.app.log.warn(line.text);
  else brook.app.log.info(line.text);
}
