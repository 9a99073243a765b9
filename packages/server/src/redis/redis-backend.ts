import type { Backend, BackendOptions } from "../backends/backend.js";
import { InstanceInbox } from "./instance-inbox.js";
import { RedisChatRuns } from "./redis-chat-runs.js";
import { RedisClients } from "./redis-clients.js";
import { RedisOAuthTokenStore } from "./redis-oauth-token-store.js";
import { RedisRunChannel } from "./redis-run-channel.js";
import { RedisRunStats } from "./redis-run-stats.js";
import { RedisRunStore } from "./redis-run-store.js";

export interface RedisBackendOptions extends BackendOptions {
  /** REDIS_URL. */
  url: string;
  /** REDIS_LEASE_MS: a producer that has not renewed its lease for this long is taken for lost. */
  leaseMs: number;
  /** MCP_OAUTH_KEY: seals the MCP servers' OAuth grants kept in Redis. */
  oauthKey?: string | undefined;
  /** REDIS_MIRROR_WINDOW_MS: how long a run's events wait to go to Redis together (0: each batch at once). */
  mirrorWindowMs?: number;
  /** REDIS_MIRROR_UNWATCHED_WINDOW_MS: the window while no reader on another instance follows the run. */
  mirrorUnwatchedWindowMs?: number;
}

/** REDIS_MIRROR_WINDOW_MS's and REDIS_MIRROR_UNWATCHED_WINDOW_MS's defaults. */
const defaultMirrorWindowMs = 5;
const defaultMirrorUnwatchedWindowMs = 50;

/** How long a run's keys last when MAX_RUN_MS bounds nothing. */
const unboundedRunMs = 86_400_000;

/**
 * Everything instances share through one Redis (`REDIS_URL`): runs (Streams, mirrored by their
 * producer), cancels and reader presence (each instance's pub/sub inbox), chats' runs, statistics
 * and rate-limit counts. Brook starts whether or not Redis is up; `state()` says how it is.
 */
export function createRedisBackend(options: RedisBackendOptions): Backend {
  const { instanceId, retention, maxRunMs, log } = options;
  const clients = new RedisClients(options.url, log);
  const inbox = new InstanceInbox(clients, instanceId);
  const store = new RedisRunStore({
    clients,
    inbox,
    retention,
    leaseMs: options.leaseMs,
    maxRunMs,
    mirrorWindowMs: options.mirrorWindowMs ?? defaultMirrorWindowMs,
    mirrorUnwatchedWindowMs: options.mirrorUnwatchedWindowMs ?? defaultMirrorUnwatchedWindowMs,
    log,
  });
  const stats = new RedisRunStats(clients, instanceId, options.activeRuns);
  const chatRuns = new RedisChatRuns(clients, (maxRunMs > 0 ? maxRunMs : unboundedRunMs) + retention.retentionMs);
  clients.connect();
  return {
    store,
    channel: new RedisRunChannel(clients, inbox),
    chatRuns,
    stats,
    oauthTokens: new RedisOAuthTokenStore(clients, options.oauthKey),
    rateLimitStore: {
      redis: clients.commands,
      nameSpace: "brook:rate:",
      // Redis away: requests go through rather than fail; the limit is back with Redis.
      skipOnError: true,
    },
    state: () => clients.state,
    close: async () => {
      // The runs' last batches reach Redis before its connections close.
      await chatRuns.close();
      await store.close();
      stats.close();
      await clients.close();
    },
  };
}
