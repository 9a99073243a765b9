/**
 * Rolls the declarations tsc wrote to dist/ into one dist/index.d.ts that carries Brook's router
 * type (`AppRouter`) itself, so an installed @brook/client needs no @brook/server. The bundle may
 * import only the client's own dependencies (@brook/shared, @trpc/*): anything else fails the build.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const packageDir = new URL("..", import.meta.url).pathname;
const dist = join(packageDir, "dist");
const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const dependencies = Object.keys(manifest.dependencies);
const isDependency = (id: string) => dependencies.some((name) => id === name || id.startsWith(`${name}/`));

const bundle = await rollup({
  input: join(dist, "index.d.ts"),
  plugins: [
    // The build's tsconfig resolves @brook/server to its built declarations, not its sources.
    dts({ includeExternal: ["@brook/server"], tsconfig: join(packageDir, "tsconfig.build.json") }),
  ],
  onwarn(warning) {
    // An unresolved import or a name clash would leave a type silently wrong: stop instead.
    throw new Error(`bundling the declarations: ${warning.message}`);
  },
});
const { output } = await bundle.generate({ format: "es" });
await bundle.close();
const [chunk] = output;

const foreign = chunk.imports.filter((id) => !isDependency(id));
if (foreign.length > 0) {
  throw new Error(
    `dist/index.d.ts would import ${foreign.join(", ")}, which an installed @brook/client does not have; ` +
      "keep the router's context to Brook's own interfaces and @brook/shared types",
  );
}

// Only the bundle stays: the per-file declarations still import @brook/server.
for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" })) {
  if (/\.d\.ts(\.map)?$/.test(file)) rmSync(join(dist, file));
}
writeFileSync(join(dist, "index.d.ts"), chunk.code);
