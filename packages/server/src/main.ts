import { existsSync } from "node:fs";
import { createBrook } from "./brook.js";
import { parseConfig } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";

/** A setting Brook cannot start with is one line, never a stack trace. */
function stop(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`brook: ${error.message}`);
  process.exit(1);
}

if (existsSync(".env")) process.loadEnvFile(".env");

let config: ReturnType<typeof parseConfig>;
try {
  config = parseConfig(process.env);
} catch (error) {
  stop(error);
}

const brook = await createBrook(config).catch(stop);
const url = await brook.listen().catch(async (error: unknown) => {
  await brook.close({ drainMs: 0 });
  return stop(error);
});
const { mode, defaultModel } = brook.services;
if (mode === "demo") {
  brook.app.log.warn(
    `Brook is in DEMO MODE at ${url}: no OPENAI_API_KEY or OPENAI_BASE_URL is set, so replies come from an offline demo model. Set one of them to use a real model.`,
  );
} else {
  brook.app.log.info(
    `Brook is streaming at ${url} with model ${defaultModel} via ${config.OPENAI_BASE_URL ?? "https://api.openai.com/v1"}`,
  );
}

// SIGTERM/SIGINT: drain (DRAIN_TIMEOUT_MS), end what is left with `shutdown`, exit 0.
// A second signal does not wait any more.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      brook.app.log.warn(`${signal} again: stopping now`);
      process.exit(1);
    }
    stopping = true;
    brook.app.log.info(`${signal}: shutting down`);
    brook.close().then(
      () => {
        brook.app.log.info("shut down");
        process.exit(0);
      },
      (error: unknown) => {
        brook.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
