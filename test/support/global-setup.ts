/**
 * Runs once before the integration tests: what they need from the machine is brought here, so
 * that `pnpm test` passes on a machine that has only Node and npm. Chromium comes from the npm
 * registry (see browser.ts); Redis has no npm-shipped binary, so Debian's `redis-server` is
 * installed when it is missing. The web UI is built here when this checkout has no build of its current sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { ensureWebBuild } from "./browser.js";

export function setup(): void {
  ensureRedisServer();
  // Once, here: test files run in parallel, and several building it at once would overwrite each other.
  ensureWebBuild();
}

function ensureRedisServer(): void {
  if (redisServerVersion() !== undefined) return;
  const root = process.getuid?.() === 0;
  console.log(`redis-server is missing: installing Debian's redis-server (apt-get${root ? "" : " through sudo"})…`);
  const asRoot = (command: string[]) => (root ? command : ["sudo", "-n", ...command]);
  const run = (command: string[]) => {
    const [file, ...args] = command as [string, ...string[]];
    execFileSync(file, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  };
  try {
    run(asRoot(["apt-get", "update", "-qq"]));
    run(asRoot(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"]));
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n").at(-1) ?? String(error);
    throw new Error(
      `The tests need redis-server and it could not be installed (${detail}). Install it yourself: sudo apt-get install redis-server`,
    );
  }
  if (redisServerVersion() === undefined) throw new Error("redis-server was installed but does not run.");
}

function redisServerVersion(): string | undefined {
  const result = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
