import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const rootRequire = createRequire(fileURLToPath(new URL("../../package.json", import.meta.url)));
const tsxLoader = pathToFileURL(rootRequire.resolve("tsx")).href;

/** Node arguments that run a workspace TypeScript entry from its sources, as `pnpm dev` does. */
export function sourceEntryArgs(pathFromRoot: string): string[] {
  const entry = fileURLToPath(new URL(`../../${pathFromRoot}`, import.meta.url));
  return ["--conditions=@brook/source", "--import", tsxLoader, entry];
}
