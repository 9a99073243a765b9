/**
 * Builds the packages whose inputs changed since their last build, in dependency order, and
 * says one line per package built (`pnpm start` runs it). A build's own output is shown only
 * when it fails. `pnpm build` still builds everything.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

interface Package {
  name: string;
  dir: string;
  /** Folders and files (from the root) whose changes make this package stale. */
  inputs: string[];
  /** Packages it is built against: their rebuild makes it stale too. */
  after: string[];
}

const shared = ["tsconfig.base.json", "packages/shared/src", "packages/shared/package.json"];
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
  },
];

const stampName = ".build-stamp";
const built = new Set<string>();
for (const pkg of packages) {
  const stamp = join(root, pkg.dir, "dist", stampName);
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const stale = pkg.after.some((name) => built.has(name)) || pkg.inputs.some((input) => newest(input) > builtAt);
  if (!stale) continue;
  const started = performance.now();
  const result = spawnSync("pnpm", ["--filter", pkg.name, "run", "build"], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout}${result.stderr}`);
    console.error(`brook: building ${pkg.name} failed`);
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, "");
  built.add(pkg.name);
  console.log(`brook: built ${pkg.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
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
