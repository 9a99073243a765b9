export type { Backend, BackendOptions, RateLimitStore } from "./backends/backend.js";
export { memoryBackend } from "./backends/memory-backend.js";
export { type Brook, type BrookOptions, createBrook } from "./brook.js";
export type { BrookServices } from "./brook-services.js";
export { type Config, type ConfigInput, ConfigSchema, isDemoMode, parseConfig } from "./config/config.js";
export { ConfigError } from "./config/config-error.js";
export type { CancelOutcome, RunControl, RunKind, StartedRun, StartOptions } from "./control/run-control.js";
export { BrookError } from "./errors/brook-error.js";
export { createRedisBackend, type RedisBackendOptions } from "./redis/redis-backend.js";
export type { RunLog, RunLogOptions, RunLogReader, RunLogWriter, RunStore } from "./storage/run-log.js";
export type { AppRouter } from "./surfaces/trpc/router.js";
export {
  type ElicitationHandler,
  type ElicitationRequest,
  type McpAuthProvider,
  McpConnection,
  type McpConnectionOptions,
} from "./tools/mcp-connection.js";
export { type McpOAuthSpec, mcpAuthProvider } from "./tools/mcp-oauth.js";
export type { McpServerSpec } from "./tools/mcp-servers-config.js";
