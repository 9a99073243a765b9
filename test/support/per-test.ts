import { afterEach } from "vitest";
import { type FakeBehavior, type Harness, startHarness } from "./brook-harness.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const cleanups: (() => unknown)[] = [];

// Registered once per test file that imports this module.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` after the current test; the last registered runs first. */
export function afterThisTest(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** A harness (Brook + fake upstream) that is closed after the current test. */
export async function harness(
  env: Parameters<typeof startHarness>[0] = {},
  behavior: FakeBehavior = {},
): Promise<Harness> {
  const started = await startHarness(env, behavior);
  afterThisTest(() => started.close());
  return started;
}

/** A harness reached through a TCP proxy whose connections a test can cut; both closed after the test. */
export async function harnessBehindProxy(
  env: Parameters<typeof startHarness>[0] = {},
  behavior: FakeBehavior = {},
): Promise<Harness & { proxy: TcpProxy }> {
  const started = await harness(env, behavior);
  const proxy = await startTcpProxy(Number(new URL(started.url).port));
  afterThisTest(() => proxy.close());
  return { ...started, proxy };
}
