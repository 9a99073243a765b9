/**
 * A stdio MCP server on protocol revision 2026-07-28 only (the official server SDK 2.x; 2025-era
 * openings are refused): `node --import tsx test/support/mcp-modern-server-stdio.ts`.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

serveStdio(
  () => {
    const server = new McpServer({ name: "brook-modern-stdio-server", version: "1.0.0" });
    server.registerTool(
      "shout",
      { description: "Repeats the text in capitals.", inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: "text", text: text.toUpperCase() }] }),
    );
    return server;
  },
  { legacy: "reject" },
);
