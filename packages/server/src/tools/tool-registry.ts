import type { McpServerStatus, ToolImage, ToolInfo, ToolResourceLink } from "@brook/shared";
import { UnauthorizedError } from "@modelcontextprotocol/client";
import type { ModelTool, ModelToolCall } from "../models/chat-model.js";
import { CallClock } from "./call-clock.js";
import { type AskInput, CallsInFlight } from "./input-questions.js";
import { McpAuthorizations } from "./mcp-authorization.js";
import {
  type ConnectionLog,
  isTimeout,
  McpConnection,
  type McpConnectionOptions,
  type McpFetch,
  McpServerGoneError,
  type McpTool,
} from "./mcp-connection.js";
import { mcpAuthProvider } from "./mcp-oauth.js";
import type { McpServerSpec, ServerApproval } from "./mcp-servers-config.js";
import { MemoryOAuthTokenStore, type OAuthTokenStore } from "./oauth-token-store.js";
import { assignToolNames } from "./tool-names.js";
import { toolResultParts, toolResultText, truncateToolText } from "./tool-result-text.js";

export interface ToolRegistryOptions {
  servers: McpServerSpec[];
  clientInfo: { name: string; version: string };
  /** Longest wait between attempts to reach a server that is down. */
  retryMaxMs: number;
  retryMinMs?: number;
  /** How often connected HTTP servers are pinged (0: only after a transport error). */
  pingIntervalMs?: number;
  /** Per tool call. */
  timeoutMs: number;
  /** Longer results are cut, with a note. */
  resultMaxChars: number;
  log?: ConnectionLog;
  /** The `fetch` of HTTP servers' transports (telemetry's adds the trace context); absent: global fetch. */
  fetch?: McpFetch | undefined;
  /** Told of every call made to a server's tool (for the metrics). */
  onCall?: (record: ToolCallRecord) => void;
  /** Which tools need a person's approval (TOOL_APPROVAL): none, all, or those named as the model calls them. */
  approval?: "none" | "all" | readonly string[] | undefined;
  /** Where the grants of authorization-code servers are kept (absent: in this process). */
  tokenStore?: OAuthTokenStore | undefined;
  /** Where browsers reach Brook (PUBLIC_URL), for the OAuth redirect URI. */
  publicUrl?: string | undefined;
}

/** How a tool call ended: the tool's own answer (`succeeded`, `tool_error`) or why there was none. */
export type ToolCallOutcome = "succeeded" | "tool_error" | "invalid_arguments" | "timeout" | "failed" | "cancelled";

export interface ToolCallRecord {
  server: string;
  /** The tool's name on its server. */
  tool: string;
  outcome: ToolCallOutcome;
  durationMs: number;
}

/** What the model gets back from a tool call. */
export interface ToolOutcome {
  text: string;
  isError: boolean;
  /** The tool's `structuredContent`, resource links and images, for clients. */
  structured?: Record<string, unknown> | undefined;
  resources?: ToolResourceLink[] | undefined;
  images?: ToolImage[] | undefined;
}

/** A long tool's progress report (MCP `notifications/progress`). */
export interface ToolProgress {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/** The SDK's own limit on a call that keeps its time with a CallClock (the largest a timer takes). */
const unlimitedMs = 2_147_483_647;

/** Progress reports of one call go out at most this often; those in between are dropped (a later one says more). */
const progressEveryMs = 250;

interface Entry {
  server: string;
  tool: string;
  connection: McpConnection;
  definition: McpTool;
  /** A person approves each call first. */
  needsApproval?: boolean;
}

/**
 * The tools of every configured MCP server under the names the model uses, and the way back
 * from such a name to its server and tool.
 */
export class ToolRegistry {
  readonly #connections: McpConnection[];
  #byName = new Map<string, Entry>();
  /** Calls in flight, for the questions their servers ask during them. */
  readonly #inFlight = new CallsInFlight();
  /** The grants of the servers a person connects (OAuth authorization code). */
  readonly authorizations: McpAuthorizations;

  constructor(private readonly options: ToolRegistryOptions) {
    this.authorizations = new McpAuthorizations(
      options.servers.flatMap((spec) =>
        spec.kind === "remote" && spec.oauth?.grant === "authorization_code"
          ? [{ name: spec.name, url: spec.url, headers: spec.headers, spec: spec.oauth }]
          : [],
      ),
      {
        store: options.tokenStore ?? new MemoryOAuthTokenStore(),
        clientName: options.clientInfo.name,
        publicUrl: options.publicUrl,
        fetch: options.fetch,
        onConnected: (server) => this.#connections.find((connection) => connection.name === server)?.connectNow(),
      },
    );
    this.#connections = options.servers.map(
      (spec) =>
        new McpConnection(spec, {
          clientInfo: options.clientInfo,
          onElicitation: (request) => this.#inFlight.answer(spec.name, request),
          retryMaxMs: options.retryMaxMs,
          ...(options.retryMinMs === undefined ? {} : { retryMinMs: options.retryMinMs }),
          ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
          ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
          // After the fetch: an authorization-code server's own watches for step-ups.
          ...this.#auth(spec),
          onChange: () => this.#rebuild(),
          ...(options.log === undefined ? {} : { log: options.log }),
        }),
    );
  }

  #auth(spec: McpServerSpec): Pick<McpConnectionOptions, "authProvider" | "authKind" | "fetch"> {
    if (spec.kind !== "remote" || spec.oauth === undefined) return {};
    if (spec.oauth.grant === "authorization_code") {
      return {
        authProvider: this.authorizations.provider(spec.name),
        authKind: "oauth_authorization_code",
        fetch: this.authorizations.watchingFetch(spec.name, this.options.fetch),
      };
    }
    return { authProvider: mcpAuthProvider(spec.oauth, this.options.clientInfo.name) };
  }

  /** Connects to every server in the background. */
  start(): void {
    for (const connection of this.#connections) connection.start();
  }

  /** Resolves when every first connection attempt has settled (succeeded or failed once). */
  async settled(): Promise<void> {
    await Promise.all(this.#connections.map((connection) => connection.settled()));
  }

  get configured(): boolean {
    return this.#connections.length > 0;
  }

  statuses(): McpServerStatus[] {
    return this.#connections.map((connection) => {
      const status = connection.status();
      if (!this.authorizations.has(connection.name)) return status;
      return { ...status, authorization: this.authorizations.describe(connection.name) };
    });
  }

  list(): ToolInfo[] {
    return [...this.#byName].map(([name, entry]) => ({
      name,
      server: entry.server,
      server_tool: entry.tool,
      description: entry.definition.description,
      input_schema: entry.definition.inputSchema,
      needs_approval: entry.needsApproval === true,
      protocol_version: entry.connection.protocolVersion,
    }));
  }

  /** The server of a tool whose calls a person approves first; undefined for any other name. */
  approvalServer(name: string): string | undefined {
    const entry = this.#byName.get(name);
    return entry?.needsApproval === true ? entry.server : undefined;
  }

  /** The tools a request offers the model: all (`null`/absent), none (`false`), or those named. */
  offered(selection: false | readonly string[] | null | undefined): ModelTool[] {
    if (selection === false) return [];
    const wanted = selection == null ? undefined : new Set(selection);
    const tools: ModelTool[] = [];
    for (const [name, entry] of this.#byName) {
      if (wanted !== undefined && !wanted.has(name)) continue;
      tools.push({ name, description: entry.definition.description, parameters: objectSchema(entry.definition) });
    }
    return tools;
  }

  /**
   * Calls a tool by the name the model used. Every failure the model can act on (unknown tool,
   * bad JSON, the tool's own error, a timeout, a server that is down or went away during the
   * call) comes back as an error result; only the run's abort throws. A server's question during
   * the call goes to `ask` (the tool's time stops while a person answers); without it, it is
   * declined and the result says so.
   */
  async call(
    call: ModelToolCall,
    signal: AbortSignal,
    onProgress?: (progress: ToolProgress) => void,
    ask?: AskInput,
  ): Promise<ToolOutcome> {
    const entry = this.#byName.get(call.name);
    if (entry === undefined) return failure(`There is no tool named "${call.name}".`);
    const startedAt = performance.now();
    const observe = (outcome: ToolCallOutcome) =>
      this.options.onCall?.({
        server: entry.server,
        tool: entry.tool,
        outcome,
        durationMs: performance.now() - startedAt,
      });
    const args = parseArguments(call.arguments);
    if (typeof args === "string") {
      observe("invalid_arguments");
      return failure(args);
    }
    const { timeoutMs, resultMaxChars } = this.options;
    const notes: string[] = [];
    // A call that may ask a person keeps its own time, stopped while the person answers.
    const clock = ask === undefined ? undefined : new CallClock(timeoutMs);
    try {
      const result = await this.#inFlight.run(
        { server: entry.server, ask, notes, asking: clock === undefined ? undefined : (on) => clock.pause(on) },
        () =>
          entry.connection.callTool(entry.tool, args, {
            signal: clock === undefined ? signal : AbortSignal.any([signal, clock.signal]),
            timeoutMs: clock === undefined ? timeoutMs : unlimitedMs,
            onProgress: onProgress === undefined ? undefined : throttled(onProgress),
          }),
      );
      observe(result.isError === true ? "tool_error" : "succeeded");
      const text = [toolResultText(result, resultMaxChars), ...notes].filter((part) => part !== "").join("\n");
      return {
        text: truncateToolText(text, resultMaxChars),
        isError: result.isError === true,
        ...toolResultParts(result, resultMaxChars),
      };
    } catch (error) {
      if (signal.aborted) {
        observe("cancelled");
        throw error;
      }
      if (isTimeout(error) || clock?.expired === true) {
        observe("timeout");
        return failure(`The tool "${call.name}" did not answer within ${timeoutMs} ms; the call was cancelled.`);
      }
      observe("failed");
      const stepUp = this.authorizations.has(entry.server)
        ? this.authorizations.describe(entry.server).step_up_scope
        : undefined;
      if (error instanceof UnauthorizedError && typeof stepUp === "string") {
        return failure(
          `The tool "${call.name}" needs more access on the MCP server "${entry.server}" (scope "${stepUp}"); the call was not made. A person grants it by connecting the server again (Connect in the web UI).`,
        );
      }
      if (error instanceof McpServerGoneError) {
        return failure(truncateToolText(`The tool "${call.name}" did not finish: ${error.message}`, resultMaxChars));
      }
      const message = error instanceof Error ? error.message : String(error);
      return failure(truncateToolText(`The tool "${call.name}" could not be called: ${message}`, resultMaxChars));
    } finally {
      clock?.stop();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections.map((connection) => connection.close()));
  }

  #rebuild(): void {
    const tools = this.#connections.flatMap((connection) =>
      connection.state === "connected"
        ? connection.tools.map(
            (definition): Entry => ({
              server: connection.name,
              tool: definition.name,
              connection,
              definition,
            }),
          )
        : [],
    );
    // With several servers every name says its server: tools of the same name cannot collide.
    const byName = assignToolNames(tools, this.#connections.length > 1);
    const servers = new Map(this.options.servers.map((spec) => [spec.name, spec.approval]));
    for (const [name, entry] of byName) {
      entry.needsApproval = needsApproval(name, entry.tool, servers.get(entry.server), this.options.approval);
    }
    this.#byName = byName;
  }
}

/** A server's own `approval` decides for its tools (by their names there); else TOOL_APPROVAL (by the model's names). */
function needsApproval(
  name: string,
  serverTool: string,
  server: ServerApproval | undefined,
  global: ToolRegistryOptions["approval"],
): boolean {
  const rule = server ?? global ?? "none";
  if (rule === "all" || rule === "none") return rule === "all";
  return rule.includes(server === undefined ? name : serverTool);
}

/** Passes on at most one report per `progressEveryMs`. */
function throttled(report: (progress: ToolProgress) => void): (progress: ToolProgress) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (progress) => {
    const now = performance.now();
    if (now - last < progressEveryMs) return;
    last = now;
    report({ progress: progress.progress, total: progress.total, message: progress.message });
  };
}

function failure(text: string): ToolOutcome {
  return { text, isError: true };
}

/** The arguments as an object, or a message for the model saying what is wrong with them. */
function parseArguments(text: string): Record<string, unknown> | string {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `The arguments are not valid JSON (${(error as Error).message}); the tool was not called. Send them as one JSON object.`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return "The arguments must be a JSON object; the tool was not called.";
  }
  return parsed as Record<string, unknown>;
}

/**
 * OpenAI wants an object schema; MCP promises one, but not every server keeps the promise.
 * `$schema` is dropped: some OpenAI-compatible servers reject keywords they do not know.
 */
function objectSchema(tool: McpTool): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = tool.inputSchema;
  if (schema.type === "object") return schema;
  return { type: "object", properties: {} };
}
