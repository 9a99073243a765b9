import { setTimeout as sleep } from "node:timers/promises";
import type { McpServerState, McpServerStatus, McpTransport } from "@brook/shared";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { McpServerSpec } from "./mcp-servers-config.js";

/** A tool as the server lists it (tools that need task execution are left out). */
export interface McpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface McpConnectionOptions {
  clientInfo: { name: string; version: string };
  /** First wait before retrying a server that is down; it doubles up to `retryMaxMs`. */
  retryMinMs?: number;
  retryMaxMs: number;
  /** Limit of the initialize and list requests. */
  requestTimeoutMs?: number;
  /** The `fetch` of the HTTP transports; absent: global fetch. */
  fetch?: McpFetch;
  /** Called whenever the tool list (or the state) changes. */
  onChange: () => void;
  /** Where connections, losses and failures are told (once per change, not per retry). */
  log?: ConnectionLog;
}

/** The `fetch` MCP's HTTP transports take. */
export type McpFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface ConnectionLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

/** Longest tool list Brook reads from one server; a server that pages forever is cut off. */
const maxPages = 100;
const lastErrorMax = 300;

/**
 * One MCP server: connects in the background (retrying with backoff while it is down), keeps its
 * tool list fresh (pagination, `notifications/tools/list_changed`), calls tools, and reconnects
 * once when the server has forgotten the session.
 */
export class McpConnection {
  readonly name: string;
  #state: McpServerState = "connecting";
  #transport: McpTransport | null = null;
  #lastError: string | null = null;
  #tools: McpTool[] = [];
  #client: Client | undefined;
  /** Aborted by close(): stops retries, connection attempts and refreshes. */
  readonly #lifetime = new AbortController();
  #connecting: Promise<void> | undefined;
  /** A new session replacing an expired one: calls that arrive meanwhile wait for it. */
  #renewing: Promise<void> | undefined;
  #stderrTail = "";

  constructor(
    readonly spec: McpServerSpec,
    private readonly options: McpConnectionOptions,
  ) {
    this.name = spec.name;
  }

  get tools(): readonly McpTool[] {
    return this.#tools;
  }

  get state(): McpServerState {
    return this.#state;
  }

  status(): McpServerStatus {
    return {
      name: this.name,
      status: this.#state,
      transport: this.#transport,
      tool_count: this.#tools.length,
      last_error: this.#lastError,
    };
  }

  /** Starts connecting in the background; Brook does not wait for MCP servers to start. */
  start(): void {
    this.#connectInBackground();
  }

  /** Resolves once the current connection attempt has settled (for tests and start-up logs). */
  async settled(): Promise<void> {
    await this.#connecting;
  }

  /**
   * Calls a tool. Tool failures come back as results with `isError`; this throws when the call
   * could not be made (not connected, timeout, abort, transport failure).
   */
  async callTool(name: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    const deadline = performance.now() + options.timeoutMs;
    if (this.#renewing !== undefined) await settledOrAborted(this.#renewing, options.signal);
    const client = this.#client;
    if (client === undefined || this.#state !== "connected") {
      throw new Error(
        `The MCP server "${this.name}" is not connected${this.#lastError ? `: ${this.#lastError}` : ""}.`,
      );
    }
    try {
      return await this.#call(client, name, args, options.signal, options.timeoutMs);
    } catch (error) {
      // The server forgot the session (restart, idle expiry), or a parallel call found that out
      // first and closed the old session under this one: a new session, then one retry.
      const replaced =
        client !== this.#client && error instanceof McpError && error.code === ErrorCode.ConnectionClosed;
      if (options.signal.aborted) throw error;
      if (!(this.#isExpiredSession(error) || replaced)) {
        // The server cannot be reached any more (it stopped, the network dropped): its tools are
        // withdrawn and Brook reconnects in the background.
        if (isUnreachable(error)) this.#lost(client, describe(error));
        throw error;
      }
      const renewed = await this.#reconnect(client, options.signal);
      const remaining = Math.max(1, Math.round(deadline - performance.now()));
      return await this.#call(renewed, name, args, options.signal, remaining);
    }
  }

  async close(): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    this.#lifetime.abort();
    this.#state = "closed";
    this.#tools = [];
    this.options.onChange();
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
    await this.#connecting?.catch(() => {});
  }

  #call(client: Client, name: string, args: Record<string, unknown>, signal: AbortSignal, timeout: number) {
    return scoped(signal, (scope) =>
      client.callTool({ name, arguments: args }, undefined, { signal: scope, timeout }),
    ) as Promise<CallToolResult>;
  }

  #connectInBackground(): void {
    if (this.#connecting !== undefined || this.#lifetime.signal.aborted) return;
    this.#connecting = this.#connectWithRetries().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #connectWithRetries(): Promise<void> {
    const minMs = this.options.retryMinMs ?? 250;
    for (let attempt = 0; !this.#lifetime.signal.aborted; attempt += 1) {
      try {
        await this.#connect();
        return;
      } catch (error) {
        if (this.#lifetime.signal.aborted) return;
        this.#fail(error);
        const delayMs = Math.min(this.options.retryMaxMs, minMs * 2 ** Math.min(attempt, 20));
        try {
          // Unref'd: a server that is down never keeps Brook's process alive.
          await sleep(delayMs, undefined, { signal: this.#lifetime.signal, ref: false });
        } catch {
          return;
        }
      }
    }
  }

  /** Opens a session and lists the tools; on success the connection is live. */
  async #connect(): Promise<void> {
    const client = await this.#open();
    try {
      const tools = await this.#listTools(client);
      if (this.#lifetime.signal.aborted) throw new Error("closed");
      this.#client = client;
      this.#tools = tools;
      this.#state = "connected";
      this.#lastError = null;
      this.options.log?.info(
        `MCP server "${this.name}" connected over ${this.#transport} with ${tools.length} tool(s).`,
      );
      this.options.onChange();
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    }
  }

  async #open(): Promise<Client> {
    const { spec } = this;
    if (spec.kind === "stdio") {
      this.#transport = "stdio";
      this.#stderrTail = "";
      const transport = new StdioClientTransport({
        command: spec.command,
        args: spec.args,
        // Stdio servers inherit only a few safe variables (PATH, HOME…); the rest is given explicitly.
        env: { ...getDefaultEnvironment(), ...spec.env },
        cwd: spec.cwd,
        stderr: "pipe",
      });
      transport.stderr?.on("data", (chunk: Buffer) => {
        this.#stderrTail = (this.#stderrTail + chunk.toString("utf8")).slice(-lastErrorMax);
      });
      return await this.#initialize(transport);
    }
    const url = new URL(spec.url);
    const { fetch } = this.options;
    const options = { requestInit: { headers: spec.headers }, ...(fetch === undefined ? {} : { fetch }) };
    if (!spec.preferSse) {
      try {
        this.#transport = "streamable_http";
        return await this.#initialize(new StreamableHTTPClientTransport(url, options));
      } catch (error) {
        // A server that refuses the Streamable HTTP handshake (4xx) may be a legacy SSE server.
        if (!(error instanceof StreamableHTTPError && isClientError(error.code))) throw error;
      }
    }
    // A Client connects only once: the fallback needs a fresh one.
    this.#transport = "sse";
    return await this.#initialize(new SSEClientTransport(url, options));
  }

  async #initialize(transport: StreamableHTTPClientTransport | SSEClientTransport | StdioClientTransport) {
    const client = new Client(this.options.clientInfo, {
      capabilities: {},
      listChanged: {
        tools: { autoRefresh: false, debounceMs: 50, onChanged: () => this.#refresh(client) },
      },
    });
    client.onclose = () => this.#lost(client);
    client.onerror = () => {
      // Transport hiccups (a dropped notification stream) are retried by the SDK; calls report real failures.
    };
    await scoped(this.#lifetime.signal, (signal) =>
      client.connect(transport, { signal, timeout: this.#requestTimeout }),
    );
    return client;
  }

  get #requestTimeout(): number {
    return this.options.requestTimeoutMs ?? 15_000;
  }

  async #listTools(client: Client): Promise<McpTool[]> {
    const listed: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const params = cursor === undefined ? undefined : { cursor };
      const result = await scoped(this.#lifetime.signal, (signal) =>
        client.listTools(params, { signal, timeout: this.#requestTimeout }),
      );
      listed.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined || cursor === "") break;
    }
    return listed
      .filter((tool) => tool.execution?.taskSupport !== "required")
      .map((tool) => ({
        name: tool.name,
        description: tool.description ?? tool.title ?? "",
        inputSchema: tool.inputSchema as Record<string, unknown>,
      }));
  }

  /** `notifications/tools/list_changed`: list again. */
  #refresh(client: Client): void {
    if (client !== this.#client) return;
    this.#listTools(client).then(
      (tools) => {
        if (client !== this.#client) return;
        this.#tools = tools;
        this.options.onChange();
      },
      (error: unknown) => {
        if (client !== this.#client || this.#lifetime.signal.aborted) return;
        if (this.#isExpiredSession(error)) {
          this.#reconnect(client, this.#lifetime.signal).catch(() => {});
          return;
        }
        this.#lastError = describe(error);
        this.options.log?.warn(`MCP server "${this.name}": listing its tools failed: ${this.#lastError}`);
      },
    );
  }

  /** The transport closed on its own (a stdio server exited, a stream ended): reconnect with backoff. */
  #lost(client: Client, reason?: string): void {
    if (client !== this.#client || this.#lifetime.signal.aborted) return;
    this.#client = undefined;
    this.#tools = [];
    this.#state = "unavailable";
    this.#lastError = reason ?? (this.#stderrTail.trim() || "The connection closed.");
    client.onclose = undefined;
    void client.close().catch(() => {});
    this.options.log?.warn(`MCP server "${this.name}" disconnected (${this.#lastError}); reconnecting.`);
    this.options.onChange();
    this.#connectInBackground();
  }

  /** Replaces an expired session with a new one; concurrent callers share one reconnection. */
  async #reconnect(expired: Client, signal: AbortSignal): Promise<Client> {
    if (this.#client === expired) {
      this.#client = undefined;
      this.#state = "connecting";
      expired.onclose = undefined;
      void expired.close().catch(() => {});
      const connecting = this.#connect().finally(() => {
        this.#connecting = undefined;
        this.#renewing = undefined;
      });
      this.#connecting = connecting;
      this.#renewing = connecting;
      connecting.catch((error: unknown) => {
        if (this.#lifetime.signal.aborted) return;
        this.#fail(error);
        this.#connectInBackground();
      });
    }
    if (this.#connecting !== undefined) await settledOrAborted(this.#connecting, signal);
    if (this.#client === undefined) throw new Error(`The MCP server "${this.name}" could not be reconnected.`);
    return this.#client;
  }

  #isExpiredSession(error: unknown): boolean {
    // Servers answer 404 for a session they no longer know (the spec); some answer 400.
    return (
      this.#transport === "streamable_http" &&
      error instanceof StreamableHTTPError &&
      (error.code === 404 || error.code === 400)
    );
  }

  #fail(error: unknown): void {
    const message = describe(error, this.#stderrTail);
    // One line when a server becomes unavailable or fails differently; retries are quiet.
    if (this.#state !== "unavailable" || this.#lastError !== message) {
      this.options.log?.warn(`MCP server "${this.name}" is unavailable (${message}); retrying in the background.`);
    }
    this.#state = "unavailable";
    this.#tools = [];
    this.#lastError = message;
    this.options.onChange();
  }
}

function describe(error: unknown, stderr = ""): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  const base = error instanceof Error ? `${error.message}${cause}` : String(error);
  const detail = stderr.trim() === "" ? base : `${base} (stderr: ${stderr.trim()})`;
  return detail.length > lastErrorMax ? `${detail.slice(0, lastErrorMax)}…` : detail;
}

/** Waits for `work` to settle (either way), or throws when `signal` aborts first. */
async function settledOrAborted(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([work.then(noop, noop), aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}

function noop(): void {}

/**
 * Runs `work` with a signal of its own that follows `parent`. The SDK never removes the abort
 * listeners it adds, so long-lived signals (Brook's lifetime, a run with many calls) get a
 * short-lived child per request instead.
 */
async function scoped<T>(parent: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const child = new AbortController();
  const follow = () => child.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener("abort", follow, { once: true });
  try {
    return await work(child.signal);
  } finally {
    parent.removeEventListener("abort", follow);
  }
}

/** A failure to reach the server at all, as opposed to an answer (MCP or HTTP error) from it. */
function isUnreachable(error: unknown): boolean {
  // fetch reports refused, reset and unresolvable connections as TypeErrors.
  return error instanceof TypeError;
}

function isClientError(code: number | undefined): boolean {
  return code !== undefined && code >= 400 && code < 500;
}
