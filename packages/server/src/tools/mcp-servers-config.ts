import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Config } from "../config/config.js";
import { ConfigError } from "../config/config-error.js";
import type { McpAuthorizationCodeSpec } from "./mcp-authorization.js";
import type { McpOAuthSpec } from "./mcp-oauth.js";

/** A remote MCP server: Streamable HTTP first, legacy SSE as the fallback (or first, with `type: "sse"`). */
export interface RemoteServerSpec {
  kind: "remote";
  name: string;
  url: string;
  headers: Record<string, string>;
  /** `sse` when the file says so: then Streamable HTTP is not tried. */
  preferSse: boolean;
  /** Which of its tools need a person's approval; absent: as TOOL_APPROVAL says. */
  approval?: ServerApproval | undefined;
  /**
   * OAuth, when the entry has `oauth`: client credentials, or an authorization code a person
   * grants once from the web UI; `headers` still go with every request.
   */
  oauth?: McpOAuthSpec | McpAuthorizationCodeSpec | undefined;
}

/** A local MCP server, started as a child process that speaks over stdin/stdout. */
export interface StdioServerSpec {
  kind: "stdio";
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  /** Which of its tools need a person's approval; absent: as TOOL_APPROVAL says. */
  approval?: ServerApproval | undefined;
}

/** A server's `approval`: all its tools, none, or those named (by their names on the server). */
export type ServerApproval = "all" | "none" | readonly string[];

export type McpServerSpec = RemoteServerSpec | StdioServerSpec;

/** The name of the server that `MCP_URL` configures. */
export const mcpUrlServerName = "mcp";

const Approval = z.union([z.enum(["all", "none"]), z.array(z.string().min(1))], {
  error: 'must be "all", "none" or an array of tool names',
});

const NonEmpty = z.string().trim().min(1, "must be a non-empty string");

/** `oauth` of a remote entry: client credentials with a secret or a private key (`private_key_jwt`). */
const OAuthEntry = z
  .object({
    grant: z.literal("client_credentials", { error: 'must be "client_credentials"' }).default("client_credentials"),
    client_id: NonEmpty,
    client_secret: NonEmpty.optional(),
    private_key: z.union([NonEmpty, z.record(z.string(), z.unknown())]).optional(),
    algorithm: NonEmpty.optional(),
    scope: NonEmpty.optional(),
    issuer: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  })
  .refine((entry) => (entry.client_secret === undefined) !== (entry.private_key === undefined), {
    error: 'needs either "client_secret" or "private_key" (not both)',
  });

/**
 * `oauth` with `grant: "authorization_code"`: a person connects the server once. A pre-registered
 * client (`client_id`, with `client_secret` when it is confidential), else Brook registers itself
 * (its client ID metadata document at `client_metadata_url`, or dynamic client registration).
 */
const AuthorizationCodeEntry = z
  .object({
    grant: z.literal("authorization_code"),
    client_id: NonEmpty.optional(),
    client_secret: NonEmpty.optional(),
    client_metadata_url: z.url({ protocol: /^https$/, error: "must be an https URL" }).optional(),
    scope: NonEmpty.optional(),
  })
  .strict()
  .refine((entry) => entry.client_secret === undefined || entry.client_id !== undefined, {
    error: '"client_secret" needs "client_id" (a pre-registered client)',
    path: ["client_secret"],
  });

/** Either grant: `authorization_code` when it says so, else client credentials. */
const AnyOAuthEntry = z.unknown().transform((value, context) => {
  const grant = typeof value === "object" && value !== null ? (value as { grant?: unknown }).grant : undefined;
  const parsed = (grant === "authorization_code" ? AuthorizationCodeEntry : OAuthEntry).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) context.addIssue({ ...issue, path: issue.path } as never);
  return z.NEVER;
});

const RemoteEntry = z.object({
  approval: Approval.optional(),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  headers: z.record(z.string(), z.string()).optional(),
  type: z.enum(["http", "streamable-http", "streamableHttp", "sse"]).optional(),
  oauth: AnyOAuthEntry.optional(),
});

const StdioEntry = z.object({
  approval: Approval.optional(),
  command: z.string().trim().min(1, "must be a non-empty string"),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  type: z.literal("stdio").optional(),
});

const ServerName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "server names are 1-64 letters, digits, '_', '.' or '-'");

/** The `mcpServers` file shape used by most MCP clients; other keys (and `disabled` servers) are skipped. */
const ServersFile = z.object({
  mcpServers: z.record(ServerName, z.record(z.string(), z.unknown())),
});

/** Reads `MCP_URL` and the `MCP_SERVERS` file into server specs; a bad file throws a ConfigError naming the field. */
export function loadMcpServers(config: Pick<Config, "MCP_URL" | "MCP_SERVERS">): McpServerSpec[] {
  const specs: McpServerSpec[] = [];
  if (config.MCP_URL !== undefined) {
    specs.push({ kind: "remote", name: mcpUrlServerName, url: config.MCP_URL, headers: {}, preferSse: false });
  }
  if (config.MCP_SERVERS !== undefined) {
    for (const spec of parseMcpServersFile(readServersFile(config.MCP_SERVERS), config.MCP_SERVERS)) {
      if (specs.some((known) => known.name === spec.name)) {
        throw new ConfigError(
          `MCP_SERVERS (${config.MCP_SERVERS})`,
          `mcpServers.${spec.name}: the name "${spec.name}" is already used by MCP_URL`,
        );
      }
      specs.push(spec);
    }
  }
  return specs;
}

function readServersFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("MCP_SERVERS", `cannot read ${path} (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`MCP_SERVERS (${path})`, `the file is not valid JSON: ${(error as Error).message}`);
  }
}

/** Validates a parsed `mcpServers` document; `source` names it in errors. */
export function parseMcpServersFile(json: unknown, source: string): McpServerSpec[] {
  const fail = (problems: string[]) => new ConfigError(`MCP_SERVERS (${source})`, problems);
  const file = ServersFile.safeParse(json);
  if (!file.success) throw fail(describe(file.error, []));
  const specs: McpServerSpec[] = [];
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(file.data.mcpServers)) {
    if (entry.disabled === true) continue;
    const path = ["mcpServers", name];
    if ("command" in entry) {
      const parsed = StdioEntry.safeParse(entry);
      if (!parsed.success) problems.push(...describe(parsed.error, path));
      else {
        const { command, args, env, cwd, approval } = parsed.data;
        specs.push({ kind: "stdio", name, command, args: args ?? [], env: env ?? {}, cwd, approval });
      }
    } else if ("url" in entry) {
      const parsed = RemoteEntry.safeParse(entry);
      if (!parsed.success) problems.push(...describe(parsed.error, path));
      else {
        const { url, headers, type, approval, oauth } = parsed.data;
        specs.push({
          kind: "remote",
          name,
          url,
          headers: headers ?? {},
          preferSse: type === "sse",
          approval,
          ...(oauth === undefined ? {} : { oauth: oauthSpec(oauth) }),
        });
      }
    } else {
      problems.push(`${path.join(".")}: needs either "url" (a remote server) or "command" (a local one)`);
    }
  }
  if (problems.length > 0) throw fail(problems);
  return specs;
}

function oauthSpec(
  entry: z.infer<typeof OAuthEntry> | z.infer<typeof AuthorizationCodeEntry>,
): McpOAuthSpec | McpAuthorizationCodeSpec {
  if (entry.grant === "authorization_code") {
    return {
      grant: entry.grant,
      clientId: entry.client_id,
      clientSecret: entry.client_secret,
      clientMetadataUrl: entry.client_metadata_url,
      scope: entry.scope,
    };
  }
  const { scope, issuer } = entry;
  if (entry.private_key !== undefined) {
    return {
      grant: entry.grant,
      clientId: entry.client_id,
      privateKey: entry.private_key,
      algorithm: entry.algorithm ?? "ES256",
      scope,
      issuer,
    };
  }
  return { grant: entry.grant, clientId: entry.client_id, clientSecret: entry.client_secret ?? "", scope, issuer };
}

function describe(error: z.ZodError, prefix: string[]): string[] {
  return error.issues.map(
    (issue) => `${[...prefix, ...issue.path.map(String)].join(".") || "(file)"}: ${issue.message}`,
  );
}
