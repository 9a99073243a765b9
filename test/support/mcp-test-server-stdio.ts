/**
 * The test MCP server over stdio: `node --import tsx test/support/mcp-test-server-stdio.ts`.
 * Answers are prefixed with the MCP_TEST_PREFIX variable, so tests can tell servers apart
 * (and see that a stdio server gets the environment it was configured with).
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createTestMcpServer } from "./mcp-test-server.js";

const server = createTestMcpServer({ calls: [], cancelled: [] }, { prefix: process.env.MCP_TEST_PREFIX ?? "" });
await server.connect(new StdioServerTransport());
