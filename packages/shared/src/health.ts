import { z } from "zod";
import { McpServerStatus } from "./tools.js";

export const Mode = z.enum(["openai", "demo"]);
export type Mode = z.infer<typeof Mode>;

/**
 * The connection to the state instances share (runs, statistics, limits), when several instances
 * act as one Brook (`REDIS_URL`).
 */
export const SharedState = z.object({
  status: z.enum(["connecting", "connected", "unavailable", "closed"]),
  /** Why it is unavailable, when it is. */
  last_error: z.string().nullable(),
});
export type SharedState = z.infer<typeof SharedState>;
/** `SharedState` under its first name (Redis was the first shared backend). */
export const RedisState = SharedState;
export type RedisState = SharedState;
/**
 * What Brook knows of the model server, from asking it for its models (`GET {base}/models`, in the
 * background at start-up and every MODEL_CHECK_INTERVAL_MS) and from the model calls of runs (one
 * that cannot connect makes it `unreachable` at once, one answered makes it `ok`): `ok`;
 * `checking` (no answer yet); `unchecked` (demo mode: no model server); `unreachable` (no
 * connection, or no answer in time); `rejected_key` (401/403: check OPENAI_API_KEY); `not_found`
 * (404: OPENAI_BASE_URL likely lacks the API's base path, e.g. `/v1`); `error` (any other answer).
 * Brook serves requests whatever it says; only `unreachable` makes `GET /health/ready` answer 503.
 */
export const ModelServerState = z.enum([
  "ok",
  "checking",
  "unchecked",
  "unreachable",
  "rejected_key",
  "not_found",
  "error",
]);
export type ModelServerState = z.infer<typeof ModelServerState>;

export const ModelServerStatus = z.object({
  status: ModelServerState,
  /** What was asked and answered, in words (and what to check when it failed). */
  detail: z.string(),
  /**
   * When that was learnt (ISO 8601): the last check or model call; null before the first
   * (absent from Brooks that predate it).
   */
  checked_at: z.iso.datetime().nullable().optional(),
});
export type ModelServerStatus = z.infer<typeof ModelServerStatus>;

/**
 * One deployment of a model (a model server that serves it, `MODELS`), as this instance sees it:
 * the background check's state, whether it is cooling down after a failure, the calls under way.
 * Cooldowns and counts are this instance's own, also when instances share a Redis.
 */
export const DeploymentStatus = z.object({
  /** The model requests name. */
  model: z.string(),
  /** `name#n`: the n-th entry of that name in the MODELS file. */
  deployment: z.string(),
  /** Not known to be unreachable, not cooling down, not at its `max_concurrent`. */
  usable: z.boolean(),
  /** What the background check and the calls last learnt (no address, no key). */
  server: ModelServerStatus,
  /** Until when (ISO 8601) it is passed over while others can answer; null when it is not. */
  cooling_down_until: z.iso.datetime().nullable(),
  /** Calls under way on this instance, and the most it takes (null: no cap). */
  in_flight: z.number().int().nonnegative(),
  max_concurrent: z.number().int().positive().nullable(),
  /** Calls tried on it since start-up, and those that failed before their first token. */
  attempts: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  /** The last failure before a first token: its code, its sentence and when (ISO 8601). */
  last_error: z.object({ code: z.string(), message: z.string(), at: z.iso.datetime() }).nullable(),
});
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const Health = z.object({
  status: z.enum(["ok", "draining"]),
  /** The seed's promise: this service streams. */
  streaming: z.literal(true),
  mode: Mode,
  /** Default model of requests that name none. */
  model: z.string(),
  version: z.string(),
  uptime_s: z.number().nonnegative(),
  active_runs: z.number().int().nonnegative(),
  /** Every configured MCP server (empty when none is configured). */
  mcp_servers: z.array(McpServerStatus),
  /** True when API routes need `Authorization: Bearer <key>` (BROOK_API_KEYS is set). */
  auth_required: z.boolean(),
  /**
   * This instance can serve every request: it is not draining, the model server is not known to
   * be unreachable and, with `REDIS_URL`, it reaches the shared state (`GET /health/ready` answers 503
   * otherwise, for balancers).
   */
  ready: z.boolean(),
  /** The shared state's connection, present when instances share state (`REDIS_URL`); named for its first backend. */
  redis: SharedState.optional(),
  /**
   * Which of the WORKERS processes answered (1, 2, …; a replaced worker's successor gets the next
   * number). Absent when one process serves.
   */
  worker: z.number().int().positive().optional(),
  /** What Brook last learnt of the model server (absent from Brooks that predate it). */
  model_server: ModelServerStatus.optional(),
  /** The models requests may name (the first is the default); absent in demo mode and from Brooks that predate it. */
  models: z.array(z.string()).optional(),
  /** Each deployment of each model; absent in demo mode and from Brooks that predate it. */
  deployments: z.array(DeploymentStatus).optional(),
});
export type Health = z.infer<typeof Health>;

/** `GET /`: what this service is and where its endpoints are. */
export const ServiceInfo = z.object({
  name: z.literal("Brook"),
  status: z.literal("running"),
  version: z.string(),
  mode: Mode,
  model: z.string(),
  endpoints: z.record(z.string(), z.string()),
  /** Where the interactive API reference is (`/docs`; the OpenAPI document at `/openapi.json`). */
  docs: z.string().optional(),
});
export type ServiceInfo = z.infer<typeof ServiceInfo>;

/** `GET /health/ready`, for load balancers: 200 when `ready`, else 503. */
export const Readiness = z.object({
  ready: z.boolean(),
  status: Health.shape.status,
  redis: SharedState.optional(),
  model_server: ModelServerState.optional(),
});
export type Readiness = z.infer<typeof Readiness>;
