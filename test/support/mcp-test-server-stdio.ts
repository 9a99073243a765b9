/**
 * The test MCP server over stdio: `node --import tsx test/support/mcp-test-server-stdio.ts`.
 * Answers are prefixed with the MCP_TEST_PREFIX variable, so tests can tell servers apart
 * (and see that a stdio server gets the environment it was configured with). Its `crash` tool
 * ends the process, to test how clients cope with a server that dies. It writes a start-up
 * banner to stderr, as real servers do, and each call to MCP_TEST_CALL_LOG when that is set.
 * With MCP_TEST_ELICITATION=1 it offers `ask`, which asks the user during its call.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { callLogFromEnv } from "./mcp-call-log.js";
import { createTestMcpServer, registerSpec } from "./mcp-test-server.js";

const log = callLogFromEnv();
const server = createTestMcpServer(log, {
  prefix: process.env.MCP_TEST_PREFIX ?? "",
  elicitation: process.env.MCP_TEST_ELICITATION === "1",
});
// Only over stdio: the server process dies in the middle of the call.
registerSpec(
  server,
  {
    name: "crash",
    description: "Exits the server process.",
    shape: {},
    run: async () => {
      process.stderr.write("crash: giving up on purpose\n");
      process.exit(3);
    },
  },
  log,
);
await server.connect(new StdioServerTransport());
process.stderr.write("brook-test-server running on stdio\n");
