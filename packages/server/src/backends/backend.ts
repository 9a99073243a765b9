import type { SharedState } from "@brook/shared";
import type { RateLimitPluginOptions } from "@fastify/rate-limit";
import type { RunChannel } from "../control/run-channel.js";
import type { RunStats } from "../stats/run-stats.js";
import type { ChatRuns } from "../storage/chat-runs.js";
import type { RetentionOptions } from "../storage/memory-run-store.js";
import type { RunStore } from "../storage/run-log.js";
import type { OAuthTokenStore } from "../tools/oauth-token-store.js";

/**
 * Where Brook keeps what its instances may share: runs, chats' runs, statistics, rate-limit
 * counts, and the way to cancel a run produced elsewhere. `memoryBackend()` keeps all of it in
 * this process; a shared backend (`redis/redis-backend.ts`) lets several instances act as one.
 */
export interface Backend {
  /** Runs' events (see `RunStore`). */
  readonly store: RunStore;
  /** Cancels for runs produced by another instance; undefined when nothing is shared. */
  readonly channel: RunChannel | undefined;
  /** The AI SDK surface's chats and their latest runs. */
  readonly chatRuns: ChatRuns;
  /** The statistics of `/stats`. */
  readonly stats: RunStats;
  /** The OAuth grants of MCP servers that a person connected. */
  readonly oauthTokens: OAuthTokenStore;
  /** Where RATE_LIMIT_RPM counts requests (`@fastify/rate-limit`'s store options); empty: in this process. */
  readonly rateLimitStore: RateLimitStore;
  /** The connection to the shared state (`/health`, readiness); undefined when nothing is shared. */
  state(): SharedState | undefined;
  /** Frees what the backend holds, after the last run ended: its last events are written first. */
  close(): Promise<void>;
}

/** The store options of `@fastify/rate-limit`: a shared backend names where counts live. */
export type RateLimitStore = Pick<RateLimitPluginOptions, "store" | "redis" | "nameSpace" | "skipOnError">;

/** What every backend is built from. */
export interface BackendOptions {
  /** This process among the instances that share a backend. */
  instanceId: string;
  retention: RetentionOptions;
  /** MAX_RUN_MS (0: unbounded): shared keys of a run nobody ends still expire after it. */
  maxRunMs: number;
  /** MAX_CONCURRENT_RUNS. */
  maxConcurrentRuns: number;
  /** This instance's active runs (for the statistics). */
  activeRuns: () => number;
  log: BackendLog;
}

export interface BackendLog {
  info(message: string): void;
  warn(message: string): void;
}

/** True when instances share state through the backend, and it is reachable now. */
export function backendReady(backend: Pick<Backend, "state">): boolean {
  const state = backend.state();
  return state === undefined || state.status === "connected";
}
