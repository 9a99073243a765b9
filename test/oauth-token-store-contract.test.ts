import { createRedisBackend, memoryBackend } from "@brook/server";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { oauthTokenStoreContract } from "./support/oauth-token-store-contract.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";

// One process: both "instances" are the same one.
oauthTokenStoreContract("memory", async (options) => {
  const backend = memoryBackend(options);
  return { first: backend, second: backend };
});

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.close());

async function redisPair(options: Parameters<typeof createRedisBackend>[0]) {
  const first = createRedisBackend(options);
  const second = createRedisBackend({ ...options, instanceId: `${options.instanceId}-second` });
  await vi.waitFor(() => {
    if (first.state()?.status !== "connected" || second.state()?.status !== "connected")
      throw new Error("Redis is not connected yet");
  });
  return { first, second };
}

// Two instances sharing one real redis-server, with and without sealing.
oauthTokenStoreContract("Redis", (options) => redisPair({ ...options, url: redis.url, leaseMs: 300 }));
oauthTokenStoreContract("Redis, sealed", (options) =>
  redisPair({ ...options, url: redis.url, leaseMs: 300, oauthKey: "contract passphrase" }),
);

it("a sealed grant is unreadable in Redis, and another key reads nothing", async () => {
  const options = {
    instanceId: "sealing",
    retention: { retentionMs: 60_000, retainMax: 100 },
    maxRunMs: 0,
    maxConcurrentRuns: 10,
    activeRuns: () => 0,
    log: { info: () => {}, warn: () => {} },
    url: redis.url,
    leaseMs: 300,
  };
  const { first, second } = await redisPair({ ...options, oauthKey: "right" });
  const other = await redisPair({ ...options, oauthKey: "wrong" });
  try {
    const grant = {
      tokens: { access_token: "secret-access", token_type: "Bearer", refresh_token: "secret-refresh" },
      receivedAt: 1,
      redirectUri: "https://b/cb",
    };
    await first.oauthTokens.saveGrant("sealed-server", grant);
    const stored = (await redis.client.get("brook:mcp-oauth:{sealed-server}:grant")) ?? "";
    expect(stored).not.toContain("secret-access");
    expect(stored).not.toContain("secret-refresh");
    expect(await second.oauthTokens.grant("sealed-server")).toEqual(grant);
    expect(await other.first.oauthTokens.grant("sealed-server")).toBeUndefined();
  } finally {
    for (const backend of [first, second, other.first, other.second]) await backend.close();
  }
});
