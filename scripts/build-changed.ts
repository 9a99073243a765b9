/**
 * Builds the packages whose inputs changed since their last build (`pnpm start` runs it): each
 * one as soon as the packages it is built against are done, so the web UI, the slowest, builds
 * beside the others. It says when each build starts and ends; a build's own output is shown only
 * when it fails. `pnpm build` still builds everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { isStale, markBuilt, type PackageBuild, packageBuilds } from "./package-builds.ts";

const root = new URL("..", import.meta.url).pathname;

const running = new Set<ChildProcess>();
/** Per package: whether it was rebuilt (which makes the packages built against it stale). */
const builds = new Map<string, Promise<boolean>>();
for (const pkg of packageBuilds) builds.set(pkg.name, buildIfStale(pkg));
await Promise.all(builds.values());

async function buildIfStale(pkg: PackageBuild): Promise<boolean> {
  const rebuilt = await Promise.all(pkg.after.map((name) => builds.get(name)));
  if (!rebuilt.some(Boolean) && !isStale(pkg)) return false;
  const startedAt = Date.now();
  const started = performance.now();
  console.log(`brook: building ${pkg.name}${pkg.slow === undefined ? "" : ` (${pkg.slow})`}…`);
  const result = await run("pnpm", ["--filter", pkg.name, "run", "build"]);
  if (result.status !== 0) {
    process.stderr.write(result.output);
    console.error(`brook: building ${pkg.name} failed`);
    for (const child of running) child.kill();
    process.exit(result.status ?? 1);
  }
  markBuilt(pkg, startedAt);
  console.log(`brook: built ${pkg.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return true;
}

/** Runs a command in the root, its output kept for when it fails. */
function run(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    const settle = (status: number | null) => {
      running.delete(child);
      resolve({ status: status ?? 1, output });
    };
    // A command that cannot start ends with "error" alone.
    child.once("error", (error) => {
      output += `${error.message}\n`;
      settle(1);
    });
    child.once("close", settle);
  });
}
