import { z } from "zod";

/** How Brook reaches an MCP server. */
export const McpTransport = z.enum(["streamable_http", "sse", "stdio"]);
export type McpTransport = z.infer<typeof McpTransport>;

/**
 * `connecting` (first attempt), `connected`, `unavailable` (down or lost; Brook retries with
 * backoff), `needs_connect` (an OAuth authorization-code server nobody has connected yet, or whose
 * grant ended or needs more scope: a person connects it, `POST /mcp/servers/:name/connect`),
 * `closed` (Brook is shutting down).
 */
export const McpServerState = z.enum(["connecting", "connected", "unavailable", "needs_connect", "closed"]);
export type McpServerState = z.infer<typeof McpServerState>;

/** How Brook authenticates to an MCP server. */
export const McpAuthKind = z.enum(["none", "headers", "oauth_client_credentials", "oauth_authorization_code"]);
export type McpAuthKind = z.infer<typeof McpAuthKind>;

/**
 * An authorization-code server's grant, as far as a client may know it: whether Brook holds
 * tokens for it and until when the access token runs (the tokens themselves never leave Brook).
 */
export const McpAuthorization = z.object({
  /** Brook holds tokens for the server (a person connected it). */
  connected: z.boolean(),
  /** When the access token expires (ISO 8601), if the server said; Brook refreshes it then. */
  expires_at: z.string().nullable(),
  /** The scope granted (space-separated), if the authorization server said. */
  scope: z.string().nullable(),
  /**
   * A tool call was refused for want of this scope (a 403 `insufficient_scope`, step-up): connecting
   * again asks the person for it; null when nothing more is needed.
   */
  step_up_scope: z.string().nullable().optional(),
});
export type McpAuthorization = z.infer<typeof McpAuthorization>;

/** One configured MCP server, as `GET /health` reports it. */
export const McpServerStatus = z.object({
  name: z.string(),
  status: McpServerState,
  /** The transport in use, or the one being tried; null before the first attempt. */
  transport: McpTransport.nullable(),
  /** Tools the model can use from this server. */
  tool_count: z.number().int().nonnegative(),
  /** The last failure (connecting, listing or calling), or null. */
  last_error: z.string().nullable(),
  /** The MCP protocol revision agreed with the server (e.g. `2025-11-25`); null until connected. */
  protocol_version: z.string().nullable().optional(),
  /**
   * How Brook authenticates to it: `none`, static `headers`, or OAuth (`oauth_client_credentials`,
   * machine to machine; `oauth_authorization_code`, connected once by a person).
   */
  auth: McpAuthKind.optional(),
  /** The grant of an `oauth_authorization_code` server. */
  authorization: McpAuthorization.optional(),
});
export type McpServerStatus = z.infer<typeof McpServerStatus>;

/** A tool the model can use (`GET /tools`, `tools.list`). */
export const ToolInfo = z.object({
  /** The name the model calls it by (and `tools` in a request selects by). */
  name: z.string(),
  /** The MCP server it belongs to. */
  server: z.string(),
  /** Its name on that server. */
  server_tool: z.string(),
  description: z.string(),
  /** JSON Schema of its arguments. */
  input_schema: z.record(z.string(), z.unknown()),
  /** A person approves each call before it runs (TOOL_APPROVAL, the server's `approval`). */
  needs_approval: z.boolean(),
  /** The MCP protocol revision its server speaks with Brook. */
  protocol_version: z.string().nullable().optional(),
});
export type ToolInfo = z.infer<typeof ToolInfo>;

export const ToolList = z.object({
  tools: z.array(ToolInfo),
  /** Every configured MCP server and its state (a server that `needs_connect` offers no tools yet). */
  servers: z.array(McpServerStatus).optional(),
});
export type ToolList = z.infer<typeof ToolList>;

/** `POST /mcp/servers/:name/connect`: where the person who connects the server goes to grant access. */
export const McpConnectResult = z.object({
  server: z.string(),
  /**
   * The authorization server's page (PKCE and a one-time `state` included); after it, the browser
   * comes back to `GET /mcp/oauth/callback`, which stores the tokens and returns to the web UI.
   */
  authorization_url: z.string(),
  /** How long the link stays valid, in seconds. */
  expires_in: z.number().int().positive(),
});
export type McpConnectResult = z.infer<typeof McpConnectResult>;

export const McpServerParams = z.object({ name: z.string().min(1).max(64) });

/** What the authorization server sends back to `GET /mcp/oauth/callback`. */
export const McpOAuthCallbackQuery = z.object({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});
