/** `pnpm bench:readme`: puts the table of the latest benchmark results (test/bench/results/latest.json) in docs/performance.md. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Results, toMarkdown, updateReadme } from "./report.js";

const results = JSON.parse(
  readFileSync(fileURLToPath(new URL("./results/latest.json", import.meta.url)), "utf8"),
) as Results;
const page = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));
if (!updateReadme(page, toMarkdown(results))) {
  console.error("docs/performance.md has no <!-- bench:begin --> / <!-- bench:end --> markers.");
  process.exit(1);
}
console.log("docs/performance.md updated from test/bench/results/latest.json.");
