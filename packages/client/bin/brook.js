#!/usr/bin/env node
// The installed `brook` command: runs the built CLI. This file exists before any build, so
// installing the workspace can always link it.
try {
  await import("../dist/cli/main.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/cli/main.js")) throw error;
  process.stderr.write("brook: the CLI is not built yet; run `pnpm build` (or use `pnpm brook` in the workspace)\n");
  process.exitCode = 1;
}
