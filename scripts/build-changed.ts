/**
 * Builds the packages whose inputs changed since their last build (`pnpm start` runs it): each
 * one as soon as the packages it is built against are done, so the web UI, the slowest, builds
 * beside the others. It says when each build starts and ends; a build's own output is shown only
 * when it fails. `pnpm build` still builds everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

interface Package {
  name: string;
  dir: string;
  /** Folders and files (from the root) whose changes make this package stale. */
  inputs: string[];
  /** Packages it is built against: it waits for them, and their rebuild makes it stale too. */
  after: string[];
  /** Said when its build starts, for a build that takes a while. */
  slow?: string;
}

const shared = ["tsconfig.base.json", "packages/shared/src", "packages/shared/scripts", "packages/shared/package.json"];
const packages: Package[] = [
  { name: "@brook/shared", dir: "packages/shared", inputs: shared, after: [] },
  {
    name: "@brook/server",
    dir: "packages/server",
    inputs: ["tsconfig.base.json", "packages/server/src", "packages/server/package.json"],
    after: ["@brook/shared"],
  },
  {
    name: "@brook/client",
    dir: "packages/client",
    inputs: ["tsconfig.base.json", "packages/client/src", "packages/client/scripts", "packages/client/package.json"],
    after: ["@brook/shared", "@brook/server"],
  },
  {
    // Bundled from the sources of the client and shared packages.
    name: "@brook/web",
    dir: "packages/web",
    inputs: ["packages/web", "packages/client/src", ...shared],
    after: [],
    slow: "the web UI, the slowest, beside the others",
  },
];

const stampName = ".build-stamp";
const running = new Set<ChildProcess>();
/** Per package: whether it was rebuilt (which makes the packages built against it stale). */
const builds = new Map<string, Promise<boolean>>();
for (const pkg of packages) builds.set(pkg.name, buildIfStale(pkg));
await Promise.all(builds.values());

async function buildIfStale(pkg: Package): Promise<boolean> {
  const rebuilt = await Promise.all(pkg.after.map((name) => builds.get(name)));
  const stamp = join(root, pkg.dir, "dist", stampName);
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (!rebuilt.some(Boolean) && !pkg.inputs.some((input) => newest(input) > builtAt)) return false;
  const started = performance.now();
  console.log(`brook: building ${pkg.name}${pkg.slow === undefined ? "" : ` (${pkg.slow})`}…`);
  const result = await run("pnpm", ["--filter", pkg.name, "run", "build"]);
  if (result.status !== 0) {
    process.stderr.write(result.output);
    console.error(`brook: building ${pkg.name} failed`);
    for (const child of running) child.kill();
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, "");
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

/** The latest modification time of a file, or of anything under a folder (builds and dependencies aside). */
function newest(path: string): number {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(full)) {
    if (entry === "node_modules" || entry === "dist" || entry.endsWith(".test.ts")) continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}
