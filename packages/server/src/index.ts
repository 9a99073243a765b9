export { type Brook, type BrookOptions, createBrook } from "./brook.js";
export type { BrookServices } from "./brook-services.js";
export { type Config, ConfigError, type ConfigInput, ConfigSchema, isDemoMode, parseConfig } from "./config/config.js";
export { BrookError } from "./errors/brook-error.js";
export type { AppRouter } from "./trpc/router.js";
