/**
 * The MCP conformance suite's client under test: `pnpm mcp-conformance-client <server-url>`, with
 * the scenario in `MCP_CONFORMANCE_SCENARIO` (and its credentials in `MCP_CONFORMANCE_CONTEXT`).
 */
import { runScenario } from "./conformance-scenario.js";

const url = process.argv[2];
if (url === undefined) {
  console.error("Usage: pnpm mcp-conformance-client <server-url> (with MCP_CONFORMANCE_SCENARIO set)");
  process.exit(2);
}
const log = { info: (message: string) => console.error(message), warn: (message: string) => console.error(message) };
runScenario(url, process.env.MCP_CONFORMANCE_SCENARIO ?? "", process.env.MCP_CONFORMANCE_CONTEXT, log).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
