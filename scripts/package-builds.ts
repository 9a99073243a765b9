/**
 * What each workspace package is built from, and whether its build is older than those inputs:
 * `pnpm start` (build-changed.ts) and the tests' web UI build (test/support/browser.ts) read the
 * same stamps, so a build made by either counts for both.
 */
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export interface PackageBuild {
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
export const packageBuilds: PackageBuild[] = [
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
    // Bundled from the sources of the client and shared packages, with the dependencies the lock file pins.
    name: "@brook/web",
    dir: "packages/web",
    inputs: [
      "packages/web/src",
      "packages/web/index.html",
      "packages/web/vite.config.ts",
      "packages/web/tsconfig.json",
      "packages/web/package.json",
      "packages/client/src",
      "packages/client/package.json",
      "pnpm-lock.yaml",
      ...shared,
    ],
    after: [],
    slow: "the web UI, the slowest, beside the others",
  },
];

export function packageBuild(name: string): PackageBuild {
  const found = packageBuilds.find((pkg) => pkg.name === name);
  if (found === undefined) throw new Error(`no package ${name}`);
  return found;
}

// In dist, which every build empties first: a stamp there means the last build finished.
const stampName = ".build-stamp";

/** True when the package has no finished build, or one of its inputs changed after that build started. */
export function isStale(pkg: PackageBuild): boolean {
  const stamp = join(root, pkg.dir, "dist", stampName);
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  return pkg.inputs.some((input) => newest(input) > builtAt);
}

/** Records a finished build as of when it started, so a change made while it ran makes it stale. */
export function markBuilt(pkg: PackageBuild, startedAtMs: number): void {
  const stamp = join(root, pkg.dir, "dist", stampName);
  writeFileSync(stamp, "");
  const startedAt = new Date(startedAtMs);
  utimesSync(stamp, startedAt, startedAt);
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
