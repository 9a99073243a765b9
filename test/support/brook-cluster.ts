import type { Brook } from "@brook/server";
import { startTestBrook, until } from "./brook-harness.js";
import { type FakeBehavior, type FakeUpstream, startFakeUpstream } from "./fake-upstream.js";
import { type RedisServer, startRedisServer } from "./redis-server.js";

type Env = Record<string, string>;

export interface BrookInstance {
  brook: Brook;
  url: string;
}

export interface BrookCluster {
  redis: RedisServer;
  upstream: FakeUpstream;
  instances: BrookInstance[];
  /** Starts one more instance sharing the same Redis and upstream. */
  add(env?: Env): Promise<BrookInstance>;
  close(): Promise<void>;
}

/** Several Brooks acting as one through a real redis-server, in front of one fake upstream. */
export async function startCluster(count: number, env: Env = {}, behavior: FakeBehavior = {}): Promise<BrookCluster> {
  const redis = await startRedisServer();
  const upstream = await startFakeUpstream(behavior);
  const instances: BrookInstance[] = [];
  const add = async (extra: Env = {}) => {
    const brook = await startTestBrook(upstream.url, { REDIS_URL: redis.url, REDIS_LEASE_MS: "600", ...env, ...extra });
    const instance = { brook, url: await brook.listen(0) };
    instances.push(instance);
    return instance;
  };
  for (let index = 0; index < count; index++) await add();
  // Every instance is connected before the test begins.
  await Promise.all(instances.map(({ brook }) => untilRedisConnected(brook)));
  return {
    redis,
    upstream,
    instances,
    add,
    async close() {
      await Promise.all(instances.map(({ brook }) => brook.close()));
      await upstream.close();
      await redis.close();
    },
  };
}

export function untilRedisConnected(brook: Brook, timeoutMs = 5_000): Promise<void> {
  return until(() => brook.services.health().redis?.status === "connected", timeoutMs);
}
