import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { McpAuthKind, McpServerState, McpServerStatus, McpTransport } from "@brook/shared";
import {
  type CallToolResult,
  Client,
  type ElicitRequest,
  type ElicitResult,
  type OAuthClientProvider,
  type Progress,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Tool,
  UnauthorizedError,
} from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { fromServer, StdioTransport, versionNegotiation } from "./mcp-revisions.js";
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
  /**
   * How often a connected HTTP server is pinged to notice that it went away while nobody called it
   * (0: never; transport errors still trigger a ping at once).
   */
  pingIntervalMs?: number;
  /** The `fetch` of the HTTP transports; absent: global fetch. */
  fetch?: McpFetch;
  /** Called whenever the tool list (or the state) changes. */
  onChange: () => void;
  /** Where connections, losses and failures are told (once per change, not per retry). */
  log?: ConnectionLog;
  /** OAuth for a remote server (the SDK's provider interface): tokens on every request, 401s answered. */
  authProvider?: McpAuthProvider | undefined;
  /** How `authProvider` authenticates, for `/health`. */
  authKind?: McpAuthKind;
  /**
   * Answers a server's `elicitation/create` (a question for the user during a call). Absent: the
   * capability is not declared, so servers do not ask.
   */
  onElicitation?: ElicitationHandler | undefined;
}

/**
 * An OAuth provider; one that completes an authorization-code flow without a person (a test
 * harness, a pre-approved client) hands the code back through `authorizationCode`.
 */
export interface McpAuthProvider extends OAuthClientProvider {
  /**
   * The code, or the whole query of the redirect back (`code` with `iss`: the 2.x client checks
   * the issuer when the authorization server says it sends one, RFC 9207).
   */
  authorizationCode?(): Promise<string | URLSearchParams | undefined>;
  /** True while only a person can grant access (nobody has connected the server yet): no attempt is made. */
  awaitsPerson?(): Promise<boolean>;
}

/** An authorization-code server that a person has not connected (or whose grant ended). */
export class McpNeedsConnectError extends Error {
  constructor(readonly server: string) {
    super(
      `The MCP server "${server}" needs connecting: a person grants access once (POST /mcp/servers/${server}/connect).`,
    );
  }
}

/** A server's question during a call, as the SDK parsed it. */
export type ElicitationRequest = ElicitRequest["params"];
export type ElicitationHandler = (request: ElicitationRequest) => Promise<ElicitResult>;

/** The `fetch` MCP's HTTP transports take. */
export type McpFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface ConnectionLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Progress notifications the server sends for this call (asking for them sends a progress token). */
  onProgress?: ((progress: Progress) => void) | undefined;
}

/** Longest tool list Brook reads from one server; a server that pages forever is cut off. */
const maxPages = 100;
const lastErrorMax = 300;
/** Lines of a stdio server's stderr that tell why it ended. */
const stderrLines = 3;

/**
 * The server went away while a call was in flight (its process ended, its connection dropped):
 * the call may or may not have taken effect, so it is never sent again.
 */
export class McpServerGoneError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(
      `The MCP server "${server}" went away during the call (${reason}); the call was not repeated, so it may or may not have taken effect.`,
    );
  }
}

/**
 * One MCP server: connects in the background (retrying with backoff while it is down), keeps its
 * tool list fresh (pagination, `notifications/tools/list_changed`), calls tools, notices when
 * the server goes away (a process exit, a transport error, a ping unanswered) and reconnects once
 * when the server has forgotten the session. A call is sent again only when the server answered
 * that it did not know the session, i.e. it never ran it.
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
  /** The stderr of the current stdio process (since it connected, once it has: not its banner). */
  #stderrTail = "";
  /** How the current stdio process ended, once it has. */
  #processEnd: { how?: string } = {};
  /** Why a connection was lost, for the calls that were in flight on it. */
  readonly #deaths = new WeakMap<Client, string>();
  /** Calls in flight per connection: a replaced session is closed once its last call is answered. */
  readonly #inFlight = new WeakMap<Client, number>();
  readonly #retired = new WeakSet<Client>();
  #pingTimer: NodeJS.Timeout | undefined;
  #probing = false;
  /** The protocol revision the current connection agreed on. */
  #protocolVersion: string | null = null;
  /** The revision has sessions (2025-11-25 and before): a server may forget one. */
  #sessions = true;
  /** Aborted by connectNow(): the wait before the next attempt ends early. */
  #wake = new AbortController();

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
      protocol_version: this.#protocolVersion,
      auth: this.#authKind,
    };
  }

  get protocolVersion(): string | null {
    return this.#protocolVersion;
  }

  get #authKind(): McpAuthKind {
    if (this.options.authProvider !== undefined) return this.options.authKind ?? "oauth_client_credentials";
    return this.spec.kind === "remote" && Object.keys(this.spec.headers).length > 0 ? "headers" : "none";
  }

  /** Starts connecting in the background; Brook does not wait for MCP servers to start. */
  start(): void {
    this.#connectInBackground();
  }

  /** Tries to connect now, if not connected (a person just granted access): the backoff's wait ends. */
  connectNow(): void {
    if (this.#state === "connected" || this.#lifetime.signal.aborted) return;
    this.#wake.abort();
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
      return await this.#attempt(client, name, args, options, options.timeoutMs);
    } catch (error) {
      // The server answered that it does not know the session (a restart, idle expiry): it never
      // ran the call, which goes again, once, on a new session.
      if (options.signal.aborted || !this.#isExpiredSession(error)) throw error;
      const renewed = await this.#reconnect(client, options.signal);
      const remaining = Math.max(1, Math.round(deadline - performance.now()));
      return await this.#attempt(renewed, name, args, options, remaining);
    }
  }

  async close(): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    this.#lifetime.abort();
    this.#state = "closed";
    this.#tools = [];
    this.#unwatch();
    this.options.onChange();
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
    await this.#connecting?.catch(() => {});
  }

  /** One call on one connection; a connection lost under it turns into McpServerGoneError. */
  async #attempt(
    client: Client,
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
    timeout: number,
  ): Promise<CallToolResult> {
    const { signal, onProgress } = options;
    this.#inFlight.set(client, (this.#inFlight.get(client) ?? 0) + 1);
    const send = async () =>
      (await scoped(signal, (scope) =>
        client.callTool(
          { name, arguments: args },
          {
            signal: scope,
            timeout,
            ...(onProgress === undefined
              ? {}
              : { onprogress: (progress: Progress) => fromServer(progress) && onProgress(progress) }),
          },
        ),
      )) as CallToolResult;
    try {
      return await this.#authorizing(client, send);
    } catch (error) {
      if (signal.aborted || this.#isExpiredSession(error)) throw error;
      const died = this.#deaths.get(client);
      if (died !== undefined) throw new McpServerGoneError(this.name, died);
      // The server cannot be reached any more (it stopped, the network dropped): its tools are
      // withdrawn and Brook reconnects in the background.
      if (isUnreachable(error)) {
        this.#lost(client, describe(error));
        // The connection broke after the request went out (the answer never came): it may have run.
        if (brokeAfterSending(error)) throw new McpServerGoneError(this.name, describe(error));
      }
      throw error;
    } finally {
      const left = (this.#inFlight.get(client) ?? 1) - 1;
      this.#inFlight.set(client, left);
      if (left === 0 && this.#retired.has(client)) void client.close().catch(noop);
    }
  }

  /**
   * A request the server refused for want of a grant (401) or a scope (403 `insufficient_scope`,
   * step-up) never ran: once the provider holds the new grant's code, it goes again, once.
   */
  async #authorizing<T>(client: Client, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !(await this.#finishAuth(client))) throw error;
      return await request();
    }
  }

  /** Exchanges an authorization code the provider obtained on its own; false when it has none. */
  async #finishAuth(client: Client): Promise<boolean> {
    const code = await this.options.authProvider?.authorizationCode?.();
    const transport = client.transport;
    if (
      code === undefined ||
      !(transport instanceof StreamableHTTPClientTransport || transport instanceof SSEClientTransport)
    ) {
      return false;
    }
    await finish(transport, code);
    return true;
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
          await sleep(delayMs, undefined, {
            signal: AbortSignal.any([this.#lifetime.signal, this.#wake.signal]),
            ref: false,
          });
        } catch {
          if (this.#lifetime.signal.aborted) return;
          this.#wake = new AbortController();
        }
      }
    }
  }

  /** Opens a session and lists the tools; on success the connection is live. */
  async #connect(): Promise<void> {
    if (await this.options.authProvider?.awaitsPerson?.()) throw new McpNeedsConnectError(this.name);
    const client = await this.#open();
    try {
      const tools = await this.#listTools(client);
      if (this.#lifetime.signal.aborted) throw new Error("closed");
      this.#client = client;
      this.#tools = tools;
      this.#state = "connected";
      this.#lastError = null;
      // From now on stderr tells why the server ends, not how it started.
      this.#stderrTail = "";
      this.#watch(client);
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
      const processEnd: { how?: string } = {};
      this.#processEnd = processEnd;
      const transport = new StdioTransport({
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
      const client = await this.#initialize(transport);
      watchExit(transport, (how) => {
        processEnd.how = how;
      });
      return client;
    }
    const url = new URL(spec.url);
    const { fetch, authProvider } = this.options;
    const options = {
      requestInit: { headers: spec.headers },
      ...(fetch === undefined ? {} : { fetch }),
      ...(authProvider === undefined ? {} : { authProvider }),
    };
    if (!spec.preferSse) {
      try {
        this.#transport = "streamable_http";
        return await this.#authorized(() => new StreamableHTTPClientTransport(url, options));
      } catch (error) {
        // A server that refuses the Streamable HTTP handshake (4xx) may be a legacy SSE server.
        if (!(error instanceof SdkHttpError && isClientError(error.status))) throw error;
      }
    }
    // A Client connects only once: the fallback needs a fresh one.
    this.#transport = "sse";
    return await this.#authorized(() => new SSEClientTransport(url, options));
  }

  /**
   * Connects; when the server wants an authorization code flow that the provider completed on its
   * own (it holds the code), the code is exchanged for tokens and the connection made again.
   */
  async #authorized(transport: () => StreamableHTTPClientTransport | SSEClientTransport): Promise<Client> {
    const first = transport();
    try {
      return await this.#initialize(first);
    } catch (error) {
      const code = await this.options.authProvider?.authorizationCode?.();
      if (!(error instanceof UnauthorizedError) || code === undefined) throw error;
      await finish(first, code);
      return await this.#initialize(transport());
    }
  }

  async #initialize(transport: StreamableHTTPClientTransport | SSEClientTransport | StdioClientTransport) {
    const { onElicitation } = this.options;
    const client = new Client(this.options.clientInfo, {
      // Defaults of the requested schema fill what the answer leaves out (SEP-1034).
      capabilities: onElicitation === undefined ? {} : { elicitation: { form: { applyDefaults: true } } },
      // Both revisions: `server/discover` first (2026-07-28, stateless), the `initialize` handshake
      // of 2025-11-25 when the server does not know it.
      versionNegotiation,
      listMaxPages: maxPages,
      listChanged: {
        tools: { autoRefresh: false, debounceMs: 50, onChanged: () => this.#refresh(client) },
      },
    });
    if (onElicitation !== undefined) {
      client.setRequestHandler("elicitation/create", (request) => onElicitation(request.params));
    }
    client.onclose = () => this.#lost(client);
    // A stream that broke (the server went away, or a hiccup the SDK retries): a ping tells which.
    // A stdio server's end is its process's exit, which closes the transport.
    client.onerror = () => {
      if (!(transport instanceof StdioClientTransport)) this.#probe(client);
    };
    await scoped(this.#lifetime.signal, (signal) =>
      client.connect(transport, { signal, timeout: this.#requestTimeout }),
    );
    this.#protocolVersion = client.getNegotiatedProtocolVersion() ?? null;
    // A 2026-07-28 server keeps no session, so there is none to expire.
    this.#sessions = client.getProtocolEra() !== "modern";
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
      const result = await this.#authorizing(client, () =>
        scoped(this.#lifetime.signal, (signal) => client.listTools(params, { signal, timeout: this.#requestTimeout })),
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

  /**
   * The server went away (a stdio process exited, a ping went unanswered, a request could not
   * reach it): calls in flight fail at once saying so, its tools are withdrawn, and Brook
   * reconnects with backoff.
   */
  #lost(client: Client, reason?: string): void {
    if (client !== this.#client || this.#lifetime.signal.aborted) return;
    const why = reason ?? this.#stdioEnd();
    this.#deaths.set(client, why);
    this.#unwatch();
    this.#client = undefined;
    this.#tools = [];
    this.#state = "unavailable";
    this.#lastError = why;
    client.onclose = undefined;
    // Closing rejects the calls in flight (the SDK's "connection closed"), which #attempt reports.
    void client.close().catch(noop);
    this.options.log?.warn(`MCP server "${this.name}" went away (${why}); reconnecting in the background.`);
    this.options.onChange();
    this.#connectInBackground();
  }

  /** Why the stdio process ended: its exit code or signal, and the last lines of its stderr. */
  #stdioEnd(): string {
    if (this.#transport !== "stdio") return "the connection closed";
    const how = `the process ${this.#processEnd.how ?? "ended"}`;
    const lines = this.#stderrTail
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .slice(-stderrLines)
      .join(" | ");
    return lines === "" ? how : `${how}; its stderr ends: ${lines}`;
  }

  /** Pings a connected HTTP server on an interval, so that a dead one is noticed between calls. */
  #watch(client: Client): void {
    this.#unwatch();
    const every = this.options.pingIntervalMs ?? 0;
    if (this.#transport === "stdio" || every <= 0) return;
    this.#pingTimer = setInterval(() => this.#probe(client), every);
    // A server being watched never keeps Brook's process alive.
    this.#pingTimer.unref();
  }

  #unwatch(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  /** One ping at a time: no answer in time (or no connection) means the server went away. */
  #probe(client: Client): void {
    if (client !== this.#client || this.#probing || this.#lifetime.signal.aborted) return;
    this.#probing = true;
    // No answer before the next ping is due (1 to 5 s) is no answer.
    const every = this.options.pingIntervalMs ?? 0;
    const timeout = every > 0 ? Math.min(5_000, Math.max(1_000, every)) : 5_000;
    scoped(this.#lifetime.signal, (signal) => client.ping({ signal, timeout }))
      .then(noop, (error: unknown) => {
        if (client !== this.#client || this.#lifetime.signal.aborted) return;
        if (this.#isExpiredSession(error)) {
          this.#reconnect(client, this.#lifetime.signal).catch(noop);
          return;
        }
        // An error answer (a server that does not know ping) still says that it is there.
        if (isAnswer(error)) return;
        this.#lost(client, `it stopped answering: ${describe(error)}`);
      })
      .finally(() => {
        this.#probing = false;
      });
  }

  /** A connection whose session the server forgot: closed once the calls still on it are answered. */
  #retire(client: Client): void {
    client.onclose = undefined;
    client.onerror = undefined;
    this.#retired.add(client);
    if ((this.#inFlight.get(client) ?? 0) === 0) void client.close().catch(noop);
  }

  /** Replaces an expired session with a new one; concurrent callers share one reconnection. */
  async #reconnect(expired: Client, signal: AbortSignal): Promise<Client> {
    if (this.#client === expired) {
      this.#unwatch();
      this.#client = undefined;
      this.#state = "connecting";
      // Calls still in flight on it get their own answer (a 404 sends them here too).
      this.#retire(expired);
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
      this.#sessions &&
      error instanceof SdkHttpError &&
      (error.status === 404 || error.status === 400)
    );
  }

  #fail(error: unknown): void {
    const message = describe(error, this.#stderrTail);
    // A grant only a person can give (none yet, or the stored one was refused and not refreshed).
    const state =
      error instanceof McpNeedsConnectError ||
      (error instanceof UnauthorizedError && this.options.authKind === "oauth_authorization_code")
        ? "needs_connect"
        : "unavailable";
    // One line when a server becomes unavailable or fails differently; retries are quiet.
    if (this.#state !== state || this.#lastError !== message) {
      this.options.log?.warn(
        state === "needs_connect"
          ? `MCP server "${this.name}" needs connecting (${message}).`
          : `MCP server "${this.name}" is unavailable (${message}); retrying in the background.`,
      );
    }
    this.#state = state;
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

/** Hands the authorization server's answer to the transport, which exchanges it for tokens. */
async function finish(
  transport: StreamableHTTPClientTransport | SSEClientTransport,
  answer: string | URLSearchParams,
): Promise<void> {
  await (typeof answer === "string" ? transport.finishAuth(answer) : transport.finishAuth(answer));
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

/**
 * Tells how a stdio server's process ended. The SDK's transport keeps its child process to itself
 * and reports only that it closed; without the process, the reason says only that it ended.
 */
function watchExit(transport: StdioClientTransport, onExit: (how: string) => void): void {
  const child = (transport as unknown as { _process?: ChildProcess })._process;
  if (child === undefined) return;
  const tell = (code: number | null, signal: NodeJS.Signals | null) =>
    onExit(code === null ? `was killed by ${signal ?? "a signal"}` : `exited with code ${code}`);
  if (child.exitCode !== null || child.signalCode !== null) tell(child.exitCode, child.signalCode);
  else child.once("exit", tell);
}

/** A JSON-RPC error the server sent, as opposed to one the SDK made up (a timeout, a closed connection). */
function isAnswer(error: unknown): boolean {
  // The SDK's own failures (a timeout, a closed connection) are SdkErrors, not ProtocolErrors.
  return error instanceof ProtocolError;
}

/** The call got no answer within its timeout (the SDK cancelled it). */
export function isTimeout(error: unknown): boolean {
  return error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout;
}

/** A failure to reach the server at all, as opposed to an answer (MCP or HTTP error) from it. */
function isUnreachable(error: unknown): boolean {
  // fetch reports refused, reset and unresolvable connections as TypeErrors.
  return error instanceof TypeError;
}

/** fetch's failure for a connection that closed or reset while the answer was awaited (not one refused). */
function brokeAfterSending(error: unknown): boolean {
  const code = error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET";
}

function isClientError(code: number | undefined): boolean {
  return code !== undefined && code >= 400 && code < 500;
}
