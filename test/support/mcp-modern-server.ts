/**
 * An MCP server on protocol revision 2026-07-28 only (stateless: no session, no `initialize`),
 * built with the official server SDK 2.x and served over HTTP on loopback. It refuses 2025-era
 * requests, so a client that reaches its tools speaks 2026-07-28.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { createMcpHandler, inputRequired, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

export interface ModernMcpServer {
  url: string;
  /** The revision each request claimed (its `MCP-Protocol-Version` header). */
  revisions: string[];
  /** The arguments of each `forecast` call. */
  calls: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startModernMcpServer(): Promise<ModernMcpServer> {
  const revisions: string[] = [];
  const calls: Record<string, unknown>[] = [];
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: "brook-modern-test-server", version: "1.0.0" });
      server.registerTool(
        "forecast",
        {
          description: "Tomorrow's weather for a city.",
          inputSchema: z.object({ city: z.string() }),
          outputSchema: z.object({ city: z.string(), celsius: z.number() }),
        },
        async ({ city }) => {
          calls.push({ city });
          return {
            content: [
              { type: "text", text: `${city}: 21 °C, sunny` },
              { type: "resource_link", uri: `https://weather.example/${encodeURIComponent(city)}`, name: city },
            ],
            structuredContent: { city, celsius: 21 },
          };
        },
      );
      // Asks the user to confirm first (on 2026-07-28, by answering `input_required`), and
      // reports progress while it works.
      server.registerTool(
        "deploy",
        { description: "Deploys a service, once the user confirms.", inputSchema: z.object({ env: z.string() }) },
        async ({ env }, ctx) => {
          const answer = ctx.mcpReq.inputResponses?.confirm as { action?: string } | undefined;
          if (answer === undefined) {
            return inputRequired({
              inputRequests: {
                confirm: inputRequired.elicit({
                  message: `Deploy to ${env}?`,
                  requestedSchema: { type: "object", properties: { confirm: { type: "boolean" } } },
                }),
              },
            });
          }
          const progressToken = ctx.mcpReq._meta?.progressToken;
          if (progressToken !== undefined) {
            await ctx.mcpReq.notify({
              method: "notifications/progress",
              params: { progressToken, progress: 1, total: 2, message: "checking" },
            });
          }
          return { content: [{ type: "text", text: `not deployed to ${env}: the user answered ${answer.action}` }] };
        },
      );
      return server;
    },
    { legacy: "reject" },
  );
  const http = createServer((request, response) => {
    const revision = request.headers["mcp-protocol-version"];
    if (typeof revision === "string") revisions.push(revision);
    serve(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = `http://127.0.0.1${request.url ?? "/"}`;
    const body = request.method === "POST" ? Readable.toWeb(request) : undefined;
    const answer = await handler.fetch(
      new Request(url, {
        method: request.method ?? "GET",
        headers: Object.entries(request.headers).flatMap(([name, value]) =>
          value === undefined
            ? []
            : (Array.isArray(value) ? value : [value]).map((one): [string, string] => [name, one]),
        ),
        ...(body === undefined ? {} : { body: body as ReadableStream, duplex: "half" }),
      }),
    );
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (answer.body === null) {
      response.end();
      return;
    }
    for await (const chunk of answer.body) response.write(chunk);
    response.end();
  }

  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    revisions,
    calls,
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
