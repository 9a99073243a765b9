export { type Brook, type BrookOptions, createBrook } from "./brook.js";
export type { BrookServices } from "./brook-services.js";
export { type Config, type ConfigInput, ConfigSchema, isDemoMode, parseConfig } from "./config/config.js";
export { ConfigError } from "./config/config-error.js";
export type { CancelOutcome, RunControl, RunKind, StartedRun, StartOptions } from "./control/run-control.js";
export { BrookError } from "./errors/brook-error.js";
export type { RunLog, RunLogReader, RunLogWriter, RunStore } from "./storage/run-log.js";
export type { AppRouter } from "./surfaces/trpc/router.js";
