/**
 * The tool calls a test MCP server in another process received, one a line (`name pid`) in the
 * file named by MCP_TEST_CALL_LOG: the test learns what to kill and, after, what ran.
 */
import { appendFileSync } from "node:fs";
import type { ToolLog } from "./mcp-test-server.js";

export function callLogFromEnv(): ToolLog {
  const file = process.env.MCP_TEST_CALL_LOG;
  return {
    calls: [],
    cancelled: [],
    ...(file === undefined ? {} : { onCall: (name: string) => appendFileSync(file, `${name} ${process.pid}\n`) }),
  };
}
