/**
 * The test MCP server over Streamable HTTP in a process of its own, for tests that kill it:
 * `PORT=… node --import tsx test/support/mcp-test-server-http.ts` prints its URL once it listens;
 * each call goes to MCP_TEST_CALL_LOG when that is set.
 */
import { callLogFromEnv } from "./mcp-call-log.js";
import { startMcpTestServer } from "./mcp-test-server.js";

const server = await startMcpTestServer({ port: Number(process.env.PORT ?? 0), log: callLogFromEnv() });
process.stdout.write(`${server.url}\n`);
