import { availableParallelism } from "node:os";
import { z } from "zod";
import { ConfigError } from "./config-error.js";

const milliseconds = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true" || value === "1" || value === "yes");

/** A comma-separated list; blank entries are dropped. */
const list = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ""),
  );

/** `*`, or origins such as `https://chat.example.com` (scheme, host and port, no path). */
const origins = list.pipe(
  z.array(
    z
      .string()
      .refine((entry) => {
        if (entry === "*") return true;
        try {
          return new URL(entry).origin === entry.replace(/\/+$/, "");
        } catch {
          return false;
        }
      }, "each entry must be * or an origin such as https://chat.example.com")
      .transform((entry) => (entry === "*" ? entry : new URL(entry).origin)),
  ),
);

/** Which tools need a person's approval: none, all, or those named. */
export type ToolApproval = "none" | "all" | readonly string[];

function toolApproval(text: string): ToolApproval {
  if (text === "" || text === "none") return "none";
  if (text === "all") return "all";
  return text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
}

/** Every setting Brook reads from the environment, validated once at start-up. */
export const ConfigSchema = z.object({
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OPENAI_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),
  /** How often the openai SDK retries 429/5xx/connection failures before the first token. */
  OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** The largest event of a model server's stream Brook reads; a larger one ends the run with `upstream_invalid_answer`. */
  MODEL_MAX_EVENT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  /**
   * A JSON file of models and the servers that serve them (`{ "models": [ { name, base_url, model, … } ] }`):
   * routing by name, deployments, fallbacks. Unset: OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL make one.
   */
  MODELS: optionalText,
  /**
   * With MODELS: how long one deployment may take to its first output when another deployment or a
   * fallback could still answer; then Brook moves on (0: wait FIRST_TOKEN_TIMEOUT_MS).
   */
  FALLBACK_TIMEOUT_MS: milliseconds(10_000),
  /** How long a deployment that failed before its first token is passed over, unless it sent Retry-After. */
  MODEL_COOLDOWN_MS: milliseconds(30_000),
  /** One MCP server (Streamable HTTP, or legacy SSE), named `mcp`. */
  MCP_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** A JSON file of MCP servers in the `{ "mcpServers": { name: … } }` shape. */
  MCP_SERVERS: optionalText,
  /**
   * Where browsers reach Brook (e.g. https://brook.example.com), for the redirect URI of MCP
   * servers connected with OAuth (`<PUBLIC_URL>/mcp/oauth/callback`). Unset: the origin the connect
   * request came to.
   */
  PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** A passphrase that seals MCP servers' OAuth grants kept in Redis (AES-256-GCM); unset: stored as JSON. */
  MCP_OAUTH_KEY: optionalText,
  /** A tool call that takes longer fails with an error result the model sees. */
  TOOL_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
  /** Rounds of tool calls a run may make; the model's next request for tools ends the run. */
  MAX_TOOL_STEPS: z.coerce.number().int().min(1).max(100).default(8),
  /** Tool calls one model turn may ask for; a turn with more ends the run with `upstream_invalid_answer`. */
  MAX_TOOL_CALLS_PER_STEP: z.coerce.number().int().min(1).max(1_000).default(32),
  /** Tool calls of one turn that run at the same time; the others wait their turn. */
  TOOL_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /**
   * Tools a person approves each call of before it runs: `none`, `all`, or tool names as `GET /tools`
   * lists them, comma-separated. A server's own `approval` in MCP_SERVERS decides for its tools.
   */
  TOOL_APPROVAL: z
    .string()
    .trim()
    .default("none")
    .transform((text) => toolApproval(text)),
  /** An approval nobody answers within this long is a denial ("timed out"). */
  APPROVAL_TIMEOUT_MS: z.coerce.number().int().min(1).default(300_000),
  /** A question an MCP server asks during a tool call (elicitation) that nobody answers within this long is declined. */
  INPUT_TIMEOUT_MS: z.coerce.number().int().min(1).default(300_000),
  /** Tool results longer than this many characters are cut, with a note, before the model sees them. */
  TOOL_RESULT_CHARS: z.coerce.number().int().min(100).default(20_000),
  /** Longest wait between attempts to reach an MCP server that is down. */
  MCP_RETRY_MAX_MS: z.coerce.number().int().min(10).default(30_000),
  /** How often connected HTTP MCP servers are pinged to notice one that went away (0: never). */
  MCP_PING_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  /** How often the model server is asked for its models again after start-up (0: only at start-up). */
  MODEL_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  SYSTEM_PROMPT: z.string().default("You are Brook, a helpful assistant. Answer clearly and concisely."),
  /** A JSON file of model prices that extends or overrides the built-in table. */
  MODEL_PRICES: optionalText,
  /** How long a resumable run whose readers all left (or that none claimed yet) waits for one. */
  RUN_GRACE_MS: z.coerce.number().int().min(100).default(30_000),
  /** How long a finished run stays readable (for late readers and resumes). */
  RUN_RETENTION_MS: milliseconds(60_000),
  /** At most this many finished runs are kept for late readers; older ones go first. */
  RUN_RETAIN_MAX: z.coerce.number().int().min(0).default(1_000),
  /** Events a run buffers ahead of its slowest reader before generation waits. */
  RUN_BUFFER_EVENTS: z.coerce.number().int().min(16).default(4_096),
  /** Bytes (text, plus 64 per event) a run buffers ahead of its slowest reader before generation waits. */
  RUN_BUFFER_BYTES: z.coerce.number().int().min(4_096).default(1_048_576),
  /**
   * Bytes (text, plus 64 per event) a replayable run (`/api/chat`, which keeps its whole answer
   * for replays) may keep; past them it ends with `run_too_large`.
   */
  RUN_MAX_BYTES: z.coerce.number().int().min(65_536).default(8_388_608),
  /** A `: ping` comment is sent on SSE streams after this much silence. */
  SSE_PING_MS: z.coerce.number().int().min(100).default(15_000),
  /**
   * tRPC's run subscriptions (`chat.stream`, `chat.events`) are written by Brook in tRPC's SSE
   * format, at the REST stream's cost per event; `false` serves them through tRPC's own adapter.
   */
  TRPC_SSE_FAST_PATH: flag(true),
  /** Demo mode's pause between tokens, for a human reading pace. */
  DEMO_TOKEN_DELAY_MS: milliseconds(30),
  /** API keys callers must present as `Authorization: Bearer <key>`; none means the API is open. */
  BROOK_API_KEYS: list,
  /** Keys that may also reset the statistics (`POST /reset-stats`, `stats.reset`); they are API keys too. */
  BROOK_ADMIN_KEYS: list,
  /** Browser origins allowed to call Brook besides its own; `*` allows any. */
  CORS_ORIGINS: origins,
  /** Runs generating at once; more are refused with 429 `overloaded`. 0: no cap. */
  MAX_CONCURRENT_RUNS: z.coerce.number().int().min(0).default(256),
  /**
   * Runs one API key may have generating at once on an instance; more are refused with 429
   * `too_many_runs`. 0: no cap. Unset: half of MAX_CONCURRENT_RUNS when there are two keys or
   * more, no cap with one key or none (see runsPerKeyCap).
   */
  MAX_RUNS_PER_KEY: z.coerce.number().int().min(0).optional(),
  /** Calls one tRPC batch request may hold; each counts against RATE_LIMIT_RPM. */
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(20),
  /** Requests per minute per API key (or per IP without one). 0: no limit. */
  RATE_LIMIT_RPM: z.coerce.number().int().min(0).default(0),
  /** Longest `message`, `system_prompt` or history entry, in characters. */
  MAX_MESSAGE_CHARS: z.coerce.number().int().min(1).default(100_000),
  /** Most entries in `history`. */
  MAX_HISTORY_MESSAGES: z.coerce.number().int().min(0).default(200),
  /** Largest image or file given with a message, in bytes once decoded (10 MB by default). */
  MAX_ATTACHMENT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(100 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  /** Most images and files in one request, past turns included (0: none accepted). */
  MAX_ATTACHMENTS: z.coerce.number().int().min(0).max(100).default(8),
  /** Largest `max_tokens` a request may ask for. */
  MAX_TOKENS_LIMIT: z.coerce.number().int().min(1).default(128_000),
  /** A model call that sends nothing for this long before its first token is ended (0: never). */
  FIRST_TOKEN_TIMEOUT_MS: milliseconds(60_000),
  /** A model call silent for this long after its first token is ended (0: never). */
  IDLE_TIMEOUT_MS: milliseconds(30_000),
  /** A run still going after this long is ended (0: never). */
  MAX_RUN_MS: milliseconds(600_000),
  /** On SIGTERM/SIGINT, how long running streams may go on before they are ended. */
  DRAIN_TIMEOUT_MS: milliseconds(10_000),
  /** A client must send its request headers within this time (slowloris). */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** A client must send its whole request (headers and body) within this time. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** An idle keep-alive connection is closed after this long. */
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * Redis shared by several Brook instances behind a load balancer (runs, cancels, statistics,
   * rate limits). Unset: one process holds everything.
   */
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  /** An instance that has not renewed its lease on a run for this long is taken for lost. */
  REDIS_LEASE_MS: z.coerce.number().int().min(300).default(3_000),
  /**
   * How long a run's events wait to be copied to Redis together (one call per run per window,
   * every run's calls in one write); readers on other instances get them up to this much later.
   * 0: each batch at once. Terminal events never wait.
   */
  REDIS_MIRROR_WINDOW_MS: z.coerce.number().int().min(0).max(1_000).default(5),
  /**
   * The same window while no reader on another instance follows the run (its copy in Redis only
   * serves a later resume): longer, so that a model's paced tokens go several to a call. A reader
   * elsewhere that starts following flushes what waits and brings the run back to
   * REDIS_MIRROR_WINDOW_MS. Never shorter than that. Terminal events never wait.
   */
  REDIS_MIRROR_UNWATCHED_WINDOW_MS: z.coerce.number().int().min(0).max(1_000).default(50),
  /**
   * Worker processes serving one port (node:cluster); `auto`: one per core this process may use.
   * More than one needs REDIS_URL, through which a run started on one worker resumes and cancels on another.
   */
  WORKERS: z
    .union([z.literal("auto"), z.coerce.number().int().min(1).max(1_024)], {
      error: "a number of worker processes from 1 to 1024, or auto",
    })
    .default(1)
    .transform((value) => (value === "auto" ? availableParallelism() : value)),
  /** The built web UI to serve at `/` (default: the workspace's packages/web/dist, when built). */
  WEB_DIR: optionalText,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** `pretty` for people, `json` for log collectors; by default pretty on a terminal only. */
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  /** Log message texts and answers (for debugging). Keys are never logged. */
  LOG_CONTENT: flag(false),
  /**
   * OpenTelemetry: traces and metrics go over OTLP/HTTP to this base URL (`/v1/traces`,
   * `/v1/metrics` appended). Unset: no telemetry, and the SDK is never loaded.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default("brook"),
  /** How often metrics are exported. */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().min(1).default(60_000),
  /** Longest wait before ended spans are exported (in batches). */
  OTEL_BSP_SCHEDULE_DELAY: milliseconds(5_000),
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** What a request body holds besides its attachments: text, history, options. */
const textBodyBytes = 1_048_576;

/**
 * The largest request body Brook reads: 1 MiB for text and options, plus room for MAX_ATTACHMENTS
 * attachments of MAX_ATTACHMENT_BYTES each as base64 (4 characters for 3 bytes, and their framing).
 * A larger body is refused with 413 before it is parsed.
 */
export function requestBodyLimit(config: Pick<Config, "MAX_ATTACHMENTS" | "MAX_ATTACHMENT_BYTES">): number {
  return textBodyBytes + config.MAX_ATTACHMENTS * (Math.ceil(config.MAX_ATTACHMENT_BYTES / 3) * 4 + 1_024);
}

/** Parses settings; the error names each bad variable in one line. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) {
    checkWorkers(result.data);
    return result.data;
  }
  throw ConfigError.many(
    result.error.issues.map((issue) => ({ variable: issue.path.join("."), problem: issue.message })),
  );
}

/**
 * Each worker holds its own runs in memory; without Redis a run started on one worker could not be
 * resumed or cancelled through another, so several workers need REDIS_URL.
 */
function checkWorkers(config: Config): void {
  if (config.WORKERS > 1 && config.REDIS_URL === undefined) {
    throw new ConfigError(
      "WORKERS",
      `${config.WORKERS} workers need REDIS_URL, through which a run started on one worker resumes and cancels on another; set REDIS_URL, or WORKERS=1`,
    );
  }
}

/**
 * The per-key cap on concurrent runs: MAX_RUNS_PER_KEY when set, else half of MAX_CONCURRENT_RUNS
 * when several keys share the instance (one key cannot take every slot), else none (a single key
 * is every client: capping it would only leave slots idle). 0: no cap.
 */
export function runsPerKeyCap(config: Config): number {
  if (config.MAX_RUNS_PER_KEY !== undefined) return config.MAX_RUNS_PER_KEY;
  const keys = new Set([...config.BROOK_API_KEYS, ...config.BROOK_ADMIN_KEYS]).size;
  return keys >= 2 ? Math.ceil(config.MAX_CONCURRENT_RUNS / 2) : 0;
}

/** Demo mode runs when no model server is configured at all. */
export function isDemoMode(config: Config): boolean {
  return config.OPENAI_API_KEY === undefined && config.OPENAI_BASE_URL === undefined && config.MODELS === undefined;
}
