/**
 * A real MCP server for tests, built on the MCP SDK's McpServer: quick, slow, failing and huge
 * tools, a tool list long enough to need several pages, a tool that requires task execution,
 * tools added at run time (`notifications/tools/list_changed`), and sessions it can forget.
 * Served over Streamable HTTP (or legacy SSE) on loopback, or over stdio by mcp-test-server-stdio.ts.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { type CallToolResult, isInitializeRequest, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** Tools per page of `tools/list`: low, so that every client has to follow `nextCursor`. */
export const pageSize = 4;

/** What the tools saw, for assertions. */
export interface ToolLog {
  /** Every call, in order of arrival. */
  calls: { name: string; args: Record<string, unknown>; traceparent?: string | undefined }[];
  /** Calls whose request was cancelled by the client (`notifications/cancelled`). */
  cancelled: string[];
  /** Told of every call as it arrives (a server in another process writes it down). */
  onCall?: (name: string) => void;
}

export interface ToolSpec {
  name: string;
  description: string;
  shape: z.ZodRawShape;
  run: (args: Record<string, unknown>, signal: AbortSignal) => Promise<string>;
}

function toolSpecs(prefix: string): ToolSpec[] {
  const specs: ToolSpec[] = [
    {
      name: "add",
      description: "Adds two numbers.",
      shape: { a: z.number(), b: z.number() },
      run: async ({ a, b }) => `${prefix}${(a as number) + (b as number)}`,
    },
    {
      name: "echo",
      description: "Echoes the text back.",
      shape: { text: z.string() },
      run: async ({ text }) => `${prefix}echo: ${text as string}`,
    },
    {
      name: "slow",
      description: "Waits `ms` milliseconds, then answers.",
      shape: { ms: z.number() },
      run: async ({ ms }, signal) => {
        await sleep(ms as number, undefined, { signal });
        return `${prefix}slept ${ms as number} ms`;
      },
    },
    {
      name: "fail",
      description: "Always fails.",
      shape: {},
      run: async () => {
        throw new Error("the disk is on fire");
      },
    },
    {
      name: "big",
      description: "Answers `chars` characters.",
      shape: { chars: z.number() },
      run: async ({ chars }) => "x".repeat(chars as number),
    },
  ];
  specs.push({
    name: "meet",
    description: "Answers once `count` calls of the same `group` have arrived: proof that calls run at once.",
    shape: { group: z.string(), count: z.number() },
    run: async ({ group, count }, signal) => {
      await meeting(group as string, count as number, signal);
      return `${prefix}met ${group as string}`;
    },
  });
  for (let index = 1; index <= 6; index += 1) {
    specs.push({
      name: `filler.${index}`,
      description: `Filler tool ${index} (its name has a dot).`,
      shape: {},
      run: async () => `${prefix}filler ${index}`,
    });
  }
  return specs;
}

const meetings = new Map<string, { arrived: number; everyone: Promise<void>; all: () => void }>();

/** Resolves when `count` callers of `group` are waiting; a caller that is cancelled stops waiting. */
function meeting(group: string, count: number, signal: AbortSignal): Promise<void> {
  let entry = meetings.get(group);
  if (entry === undefined) {
    let all!: () => void;
    const everyone = new Promise<void>((resolve) => {
      all = resolve;
    });
    entry = { arrived: 0, everyone, all };
    meetings.set(group, entry);
  }
  entry.arrived += 1;
  if (entry.arrived >= count) entry.all();
  const { everyone } = entry;
  return new Promise<void>((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    everyone.then(resolve);
  });
}

/** A tool only task-aware clients can call: listed, never callable through tools/call. */
const taskOnlyTool = {
  name: "research",
  description: "Needs task execution.",
  inputSchema: { type: "object" as const, properties: {} },
  execution: { taskSupport: "required" as const },
};

/** What the `ask` tool asks the user (elicitation, form mode): a bit of every kind of field. */
export const askSchema = {
  type: "object" as const,
  properties: {
    name: { type: "string" as const, title: "Your name", minLength: 1 },
    age: { type: "integer" as const, title: "Age", minimum: 0 },
    color: { type: "string" as const, title: "Favourite colour", enum: ["red", "green", "blue"], default: "green" },
    subscribe: { type: "boolean" as const, title: "Subscribe", default: false },
  },
  required: ["name", "age"],
};

/**
 * `ask`: asks the user (`elicitation/create` on the call's own stream), then answers with what it
 * got: `accept {"name":…}`, `decline` or `cancel`.
 */
function registerAsk(server: McpServer, log: ToolLog): void {
  server.registerTool(
    "ask",
    { description: "Asks the user who they are, then says what it was told.", inputSchema: {} },
    async (args: Record<string, unknown>, extra): Promise<CallToolResult> => {
      log.calls.push({ name: "ask", args });
      log.onCall?.("ask");
      const answer = await server.server.elicitInput(
        { mode: "form", message: "Who are you?", requestedSchema: askSchema },
        { relatedRequestId: extra.requestId, timeout: 600_000 },
      );
      const content = answer.content === undefined ? "" : ` ${JSON.stringify(answer.content)}`;
      return { content: [{ type: "text", text: `${answer.action}${content}` }] };
    },
  );
}

/** One McpServer (one per session), with the paginated list installed over McpServer's own. */
export function createTestMcpServer(log: ToolLog, options: { prefix?: string; elicitation?: boolean } = {}): McpServer {
  const server = new McpServer({ name: "brook-test-server", version: "1.0.0" });
  const specs = toolSpecs(options.prefix ?? "");
  for (const spec of specs) registerSpec(server, spec, log);
  if (options.elicitation === true) registerAsk(server, log);
  server.server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const all = [
      ...Object.values(listed.get(server) ?? {}).map((spec) => ({
        name: spec.name,
        description: spec.description,
        inputSchema: z.toJSONSchema(z.object(spec.shape)) as { type: "object"; [key: string]: unknown },
      })),
      ...(options.elicitation === true
        ? [
            {
              name: "ask",
              description: "Asks the user who they are.",
              inputSchema: { type: "object" as const, properties: {} },
            },
          ]
        : []),
      taskOnlyTool,
    ];
    const start = Number(request.params?.cursor ?? 0);
    const page = all.slice(start, start + pageSize);
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
    return { tools: page, ...(next === undefined ? {} : { nextCursor: next }) };
  });
  return server;
}

const listed = new WeakMap<McpServer, Record<string, ToolSpec>>();

/** Adds a tool to one server (it tells its client that the list changed). */
export function registerSpec(server: McpServer, spec: ToolSpec, log: ToolLog): void {
  const specs = listed.get(server) ?? {};
  specs[spec.name] = spec;
  listed.set(server, specs);
  server.registerTool(
    spec.name,
    { description: spec.description, inputSchema: spec.shape },
    async (args: Record<string, unknown>, extra): Promise<CallToolResult> => {
      const traceparent = extra.requestInfo?.headers.traceparent;
      log.calls.push({ name: spec.name, args, traceparent: typeof traceparent === "string" ? traceparent : undefined });
      log.onCall?.(spec.name);
      extra.signal.addEventListener("abort", () => log.cancelled.push(spec.name), { once: true });
      // A thrown error becomes an `isError` result (McpServer's own handling).
      return { content: [{ type: "text", text: await spec.run(args, extra.signal) }] };
    },
  );
}

export interface McpTestServer {
  /** e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  port: number;
  log: ToolLog;
  /** Sessions started so far (each initialize is one). */
  sessionsStarted(): number;
  /** Forgets every session: the next request of a client answers 404, as after a server restart. */
  forgetSessions(): void;
  /** Access tokens its authorization server issued, and the `Authorization` headers `/mcp` refused. */
  oauth: { issued: string[]; refused: (string | undefined)[] };
  /** Adds a quick tool to every live session (clients get `notifications/tools/list_changed`). */
  addTool(name: string, answer: string): void;
  close(): Promise<void>;
}

export interface McpTestServerOptions {
  /** Where its tool log goes (default: a new one). */
  log?: ToolLog;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Speak the legacy HTTP+SSE transport only (Streamable HTTP POSTs answer 405). */
  legacySse?: boolean;
  /** Put this before every answer, to tell servers apart. */
  prefix?: string;
  /**
   * Protect `/mcp` with OAuth: a bearer token from the server's own authorization server (the
   * client credentials grant, `client_secret_basic`), discovered from `WWW-Authenticate` and the
   * protected resource metadata.
   */
  oauth?: { clientId: string; clientSecret: string };
  /** Offer `ask`, a tool that asks the user for input during its call (elicitation). */
  elicitation?: boolean;
  /**
   * Protect `/mcp` with bearer tokens of a separate authorization server (named in the protected
   * resource metadata): `verify` answers a token's scopes, `scope` is what the 401's
   * `WWW-Authenticate` asks for, and a tool in `toolScopes` needs its scope too (a 403
   * `insufficient_scope` otherwise: step-up).
   */
  resourceAuth?: {
    issuer: string;
    verify(authorization: string | undefined): string[] | undefined;
    scope?: string;
    toolScopes?: Record<string, string>;
  };
}

/** Serves the test MCP server over HTTP on loopback. */
export async function startMcpTestServer(options: McpTestServerOptions = {}): Promise<McpTestServer> {
  const log: ToolLog = options.log ?? { calls: [], cancelled: [] };
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport | SSEServerTransport; mcp: McpServer }>();
  const extraTools: { name: string; answer: string }[] = [];
  let started = 0;

  const newMcp = () => {
    const mcp = createTestMcpServer(log, {
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      ...(options.elicitation === true ? { elicitation: true } : {}),
    });
    for (const tool of extraTools) addTo(mcp, tool);
    return mcp;
  };
  const addTo = (mcp: McpServer, tool: { name: string; answer: string }) =>
    registerSpec(mcp, { name: tool.name, description: "Added later.", shape: {}, run: async () => tool.answer }, log);

  const oauth = { issued: [] as string[], refused: [] as (string | undefined)[] };
  let origin = "";
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://test");
    const body = req.method === "POST" ? await readJson(req) : undefined;
    if (options.resourceAuth !== undefined && guardResource(req, res, url, origin, options.resourceAuth, body)) return;
    if (options.oauth !== undefined) {
      if (answerOAuth(req, res, url, origin, options.oauth, oauth)) return;
      const authorization = header(req, "authorization");
      if (url.pathname === "/mcp" && !oauth.issued.some((token) => authorization === `Bearer ${token}`)) {
        oauth.refused.push(authorization);
        res.writeHead(401, {
          "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
        });
        res.end();
        return;
      }
    }
    const sessionId = header(req, "mcp-session-id") ?? url.searchParams.get("sessionId") ?? undefined;
    if (options.legacySse) {
      if (req.method === "GET" && url.pathname === "/mcp") {
        const transport = new SSEServerTransport("/messages", res);
        const mcp = newMcp();
        sessions.set(transport.sessionId, { transport, mcp });
        started += 1;
        await mcp.connect(transport);
        return;
      }
      const session = sessionId === undefined ? undefined : sessions.get(sessionId);
      if (req.method === "POST" && url.pathname === "/messages" && session?.transport instanceof SSEServerTransport) {
        await session.transport.handlePostMessage(req, res, body);
        return;
      }
      return sendError(res, 405, "Method not allowed");
    }
    if (url.pathname !== "/mcp") return sendError(res, 404, "Not found");
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (session === undefined) return sendError(res, 404, "Session not found");
      await (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) return sendError(res, 400, "No session");
    const mcp = newMcp();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, mcp });
      },
    });
    started += 1;
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    log,
    oauth,
    sessionsStarted: () => started,
    forgetSessions: () => {
      const forgotten = [...sessions.values()];
      sessions.clear();
      for (const { mcp } of forgotten) void mcp.close().catch(() => {});
    },
    addTool: (name, answer) => {
      extraTools.push({ name, answer });
      for (const { mcp } of sessions.values()) addTo(mcp, { name, answer });
    },
    close: async () => {
      for (const { mcp } of sessions.values()) await mcp.close().catch(() => {});
      sessions.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The resource server's side of OAuth with a separate authorization server: its metadata, and
 * `/mcp` refused without a valid token (401) or without a tool's scope (403); true when answered.
 */
function guardResource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  origin: string,
  guard: NonNullable<McpTestServerOptions["resourceAuth"]>,
  body: unknown,
): boolean {
  const metadata = `${origin}/.well-known/oauth-protected-resource/mcp`;
  if (req.method === "GET" && url.pathname === "/.well-known/oauth-protected-resource/mcp") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ resource: `${origin}/mcp`, authorization_servers: [guard.issuer] }));
    return true;
  }
  if (url.pathname !== "/mcp") return false;
  const scopes = guard.verify(header(req, "authorization"));
  const scope = guard.scope === undefined ? "" : `, scope="${guard.scope}"`;
  if (scopes === undefined) {
    res.writeHead(401, { "www-authenticate": `Bearer resource_metadata="${metadata}"${scope}` });
    res.end();
    return true;
  }
  const call = body as { method?: string; params?: { name?: string } } | undefined;
  const needed = call?.method === "tools/call" ? guard.toolScopes?.[call.params?.name ?? ""] : undefined;
  if (needed !== undefined && !scopes.includes(needed)) {
    const wanted = [...new Set([...scopes, needed])].join(" ");
    res.writeHead(403, {
      "www-authenticate": `Bearer error="insufficient_scope", scope="${wanted}", resource_metadata="${metadata}"`,
    });
    res.end();
    return true;
  }
  return false;
}

/** The authorization server's side: metadata and the token endpoint (client credentials only). */
function answerOAuth(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  origin: string,
  client: { clientId: string; clientSecret: string },
  record: { issued: string[] },
): boolean {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
    return true;
  };
  if (req.method === "GET" && url.pathname === "/.well-known/oauth-protected-resource/mcp") {
    return json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
  }
  if (req.method === "GET" && url.pathname === "/.well-known/oauth-authorization-server") {
    return json(200, {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      response_types_supported: ["code"],
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic"],
    });
  }
  if (req.method === "POST" && url.pathname === "/token") {
    const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;
    if (header(req, "authorization") !== basic) return json(401, { error: "invalid_client" });
    const token = randomUUID();
    record.issued.push(token);
    return json(200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
  }
  return false;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}
