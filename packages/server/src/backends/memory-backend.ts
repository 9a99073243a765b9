import { MemoryRunStats } from "../stats/run-stats.js";
import { MemoryChatRuns } from "../storage/memory-chat-runs.js";
import { MemoryRunStore } from "../storage/memory-run-store.js";
import { MemoryOAuthTokenStore } from "../tools/oauth-token-store.js";
import type { Backend, BackendOptions } from "./backend.js";

/** One Brook in one process: everything in memory, nothing shared, no channel to other instances. */
export function memoryBackend(options: BackendOptions): Backend {
  const store = new MemoryRunStore(options.retention);
  // Room for every run the store may still hold.
  const chatRuns = new MemoryChatRuns(Math.max(10_000, options.retention.retainMax + options.maxConcurrentRuns));
  return {
    store,
    channel: undefined,
    chatRuns,
    stats: new MemoryRunStats(options.activeRuns),
    oauthTokens: new MemoryOAuthTokenStore(),
    rateLimitStore: {},
    state: () => undefined,
    close: async () => {
      await store.close();
      await chatRuns.close();
    },
  };
}
