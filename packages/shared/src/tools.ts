import { z } from "zod";

/** How Brook reaches an MCP server. */
export const McpTransport = z.enum(["streamable_http", "sse", "stdio"]);
export type McpTransport = z.infer<typeof McpTransport>;

/**
 * `connecting` (first attempt), `connected`, `unavailable` (down or lost; Brook retries with
 * backoff), `closed` (Brook is shutting down).
 */
export const McpServerState = z.enum(["connecting", "connected", "unavailable", "closed"]);
export type McpServerState = z.infer<typeof McpServerState>;

/** How Brook authenticates to an MCP server. */
export const McpAuthKind = z.enum(["none", "headers", "oauth_client_credentials"]);
export type McpAuthKind = z.infer<typeof McpAuthKind>;

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
  /** How Brook authenticates to it: `none`, static `headers`, or OAuth (`oauth_client_credentials`). */
  auth: McpAuthKind.optional(),
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

export const ToolList = z.object({ tools: z.array(ToolInfo) });
export type ToolList = z.infer<typeof ToolList>;
