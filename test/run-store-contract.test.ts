import { createRedisBackend, memoryBackend } from "@brook/server";
import { afterAll, beforeAll, vi } from "vitest";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";
import { runStoreContract } from "./support/run-store-contract.js";

// Brook in one process: the reading instance is the producing one.
runStoreContract(
  "memory",
  async (options) => {
    const backend = memoryBackend(options);
    return { producer: backend, reader: backend };
  },
  { leases: false },
);

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.close());

// Two instances sharing one real redis-server.
runStoreContract(
  "Redis",
  async (options) => {
    const shared = { ...options, url: redis.url, leaseMs: 300 };
    const producer = createRedisBackend(shared);
    const reader = createRedisBackend({ ...shared, instanceId: `${options.instanceId}-reader` });
    await vi.waitFor(() => {
      if (producer.state()?.status !== "connected" || reader.state()?.status !== "connected")
        throw new Error("Redis is not connected yet");
    });
    // A crash: the producer stops renewing its leases and never ends its runs.
    return { producer, reader, crash: () => producer.close() };
  },
  { leases: true },
);
