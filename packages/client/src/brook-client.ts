import type { AppRouter } from "@brook/server";
// Types only: the schemas (and zod) stay out of browser bundles that only stream.
import type {
  AnswerInputResult,
  ApprovalAnswer,
  ApproveResult,
  ChatEvent,
  ChatRequest,
  InputAnswer,
  InputRequestEvent,
  McpConnectResult,
  ToolApprovalEvent,
} from "@brook/shared";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
} from "@trpc/client";
import type { z } from "zod";
import { nodeEventSource } from "#node-event-source";
import { type ObjectStream, objectStream, type StreamObjectRequest } from "./stream-object.js";

export interface BrookClientOptions {
  /** Brook's base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  /**
   * The API key when the server requires one (`BROOK_API_KEYS`); a function is asked each time.
   * Sent as `Authorization: Bearer <key>`, and to subscriptions from a browser (which cannot set
   * headers on an EventSource) as the tRPC connection parameter `authorization`.
   */
  apiKey?: string | (() => string | undefined);
  /** Extra headers on every request; a function is asked each time. */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Defaults to the global `EventSource` (browsers), else the `eventsource` package (Node). */
  EventSource?: typeof globalThis.EventSource;
}

export interface StreamChatOptions {
  /** Aborting it stops the stream at once and cancels the run on the server (the model call is aborted). */
  signal?: AbortSignal;
  /**
   * Aborting it cancels the run on the server and reads on until the run's terminal event: the
   * `cancelled` error that carries the tokens and cost used so far (or `complete`, when the run
   * ended first). When that event has not come within `stopTimeoutMs`, the stream rejects with
   * the stop signal's reason, as `signal` would.
   */
  stop?: AbortSignal;
  /** How long a stopped run may take to send its terminal event; default 5000. */
  stopTimeoutMs?: number;
  /**
   * Asked when the run waits for a tool call's approval (a `tool_approval` event, which is also
   * yielded): resolve with the answer to send it, or with nothing to leave it to someone else
   * (`approve()` / `deny()`, the web UI). An approval answered elsewhere first is not an error.
   */
  onApproval?: (request: ApprovalRequest) => ApprovalAnswer | undefined | Promise<ApprovalAnswer | undefined>;
  /**
   * Asked when an MCP server asks the user for input during a tool call (an `input_request`
   * event, also yielded): resolve with the answer (`accept` with `content` fitting
   * `event.requested_schema`, `decline`, `cancel`) to send it, or with nothing to leave it to
   * someone else (`answerInput()`, the web UI). One answered elsewhere first is not an error;
   * content that does not fit fails the stream with the server's 400 (`bad_request`, naming the field).
   */
  onInputRequest?: (request: InputRequest) => InputAnswer | undefined | Promise<InputAnswer | undefined>;
}

/** A server's question a run waits on: what `onInputRequest` is asked about. */
export interface InputRequest {
  runId: string;
  event: InputRequestEvent;
}

/** A tool call a run waits on: what `onApproval` is asked about. */
export interface ApprovalRequest {
  runId: string;
  event: ToolApprovalEvent;
}

export interface ReadRunOptions extends StreamChatOptions {
  /** Resume after this event (`<run_id>:<seq>`, as received); from the run's first event when absent. */
  lastEventId?: string;
}

/** An event of a run with its id (`<run_id>:<seq>`), to resume after it with `readRun`. */
export interface TrackedChatEvent {
  id: string;
  event: ChatEvent;
}

export interface BrookClient {
  /** The typed tRPC client: every procedure of Brook's router. */
  readonly trpc: TRPCClient<AppRouter>;
  /**
   * Starts a run and yields its events until the terminal one: `startChat`, then `readRun`. A
   * dropped connection is resumed where it broke (no second model call).
   */
  streamChat(request: ChatRequest, options?: StreamChatOptions): AsyncGenerator<ChatEvent, void, undefined>;
  /**
   * Starts a run and resolves with its id; read it with `readRun`. When `signal` aborts while the
   * server is starting it, the run is cancelled as soon as its id arrives.
   */
  startChat(request: ChatRequest, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * Yields a run's events with their ids until the terminal one, from its start or after
   * `lastEventId`: this is how a reader that went away (a reloaded page) picks a run up again,
   * without a second model call. Runs wait `RUN_GRACE_MS` for a reader to come back. A dropped
   * connection is resumed where it broke; leaving before the end cancels the run.
   */
  readRun(runId: string, options?: ReadRunOptions): AsyncGenerator<TrackedChatEvent, void, undefined>;
  /**
   * A typed answer: `schema` (Zod, of an object) goes to the server as JSON Schema; iterate the
   * result for the partial values as they fill in, and await its `object` for the final value,
   * parsed with the schema, typed `z.infer<typeof schema>`.
   */
  streamObject<Schema extends z.ZodType<object>>(
    request: StreamObjectRequest<Schema>,
    options?: StreamChatOptions,
  ): ObjectStream<z.infer<Schema>>;
  /** Approves a tool call a run waits on (its `tool_approval` event's `approval_id`): the tool runs. */
  approve(runId: string, approvalId: string): Promise<ApproveResult>;
  /** Denies it: the tool never runs, and the model is told so, with `reason` when given. */
  deny(runId: string, approvalId: string, reason?: string): Promise<ApproveResult>;
  /**
   * Answers a server's question a run waits on (its `input_request` event's `input_id`): accept
   * with content (checked against the requested schema: a `bad_request` error names the field
   * that does not fit, and the question still waits), decline or cancel.
   */
  answerInput(runId: string, inputId: string, answer: InputAnswer): Promise<AnswerInputResult>;
  /**
   * Starts connecting an MCP server that uses the OAuth authorization code (`POST
   * /mcp/servers/:name/connect`): open `authorization_url` in a browser; once the person allows
   * it, Brook keeps the tokens and the server's tools come up. Throws `BrookHttpError` on a refusal.
   */
  connectMcpServer(name: string): Promise<McpConnectResult>;
}

/** A REST call Brook refused: its HTTP status and the error code of its body. */
export class BrookHttpError extends Error {
  override name = "BrookHttpError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const defaultStopTimeoutMs = 5000;

export function createBrookClient(options: BrookClientOptions): BrookClient {
  const base = `${options.url.replace(/\/+$/, "")}/trpc`;
  const authorization = () => {
    const key = typeof options.apiKey === "function" ? options.apiKey() : options.apiKey;
    return key ? `Bearer ${key}` : undefined;
  };
  const headers = () => {
    const extra = typeof options.headers === "function" ? options.headers() : (options.headers ?? {});
    const bearer = authorization();
    return bearer === undefined ? extra : { ...extra, authorization: bearer };
  };
  const browserEventSource = options.EventSource ?? globalThis.EventSource;
  let subscriptions: TRPCLink<AppRouter>;
  if (browserEventSource !== undefined) {
    subscriptions = httpSubscriptionLink<AppRouter, typeof globalThis.EventSource>({
      url: base,
      EventSource: browserEventSource,
      connectionParams: () => {
        const bearer = authorization();
        return bearer === undefined ? null : { authorization: bearer };
      },
    });
  } else if (nodeEventSource !== undefined) {
    subscriptions = httpSubscriptionLink<AppRouter, typeof nodeEventSource>({
      url: base,
      EventSource: nodeEventSource,
      // Node's EventSource sends headers through its fetch; browsers' cannot send any.
      eventSourceOptions: () => ({
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers() } }),
      }),
    });
  } else {
    throw new Error("No EventSource here: pass one as the EventSource option of createBrookClient.");
  }
  const links: TRPCLink<AppRouter>[] = [
    splitLink({
      condition: (operation) => operation.type === "subscription",
      true: subscriptions,
      // Brook refuses batches of more than MAX_BATCH_SIZE calls (20 by default).
      false: httpBatchLink({ url: base, headers, maxItems: 10 }),
    }),
  ];
  const trpc = createTRPCClient<AppRouter>({ links });

  const startChat = (request: ChatRequest, startOptions: { signal?: AbortSignal } = {}) =>
    startRun(trpc, request, startOptions.signal);
  const readRun = (runId: string, readOptions: ReadRunOptions = {}) => readRunEvents(trpc, runId, readOptions);
  async function* streamChat(request: ChatRequest, streamOptions: StreamChatOptions = {}) {
    const runId = await startChat(request, streamOptions.signal === undefined ? {} : { signal: streamOptions.signal });
    for await (const { event } of readRun(runId, streamOptions)) yield event;
  }
  function streamObject<Schema extends z.ZodType<object>>(
    { schema, name, description, strict, ...request }: StreamObjectRequest<Schema>,
    streamOptions: StreamChatOptions = {},
  ) {
    // The schema's own method: no runtime import of zod for clients that never ask for objects.
    const output = { schema: schema.toJSONSchema() as Record<string, unknown>, name, description, strict };
    return objectStream(schema, streamChat({ ...request, output }, streamOptions));
  }
  const approve = (runId: string, approvalId: string) =>
    trpc.chat.approve.mutate({ run_id: runId, approval_id: approvalId, approved: true });
  const deny = (runId: string, approvalId: string, reason?: string) =>
    trpc.chat.approve.mutate({
      run_id: runId,
      approval_id: approvalId,
      approved: false,
      ...(reason === undefined ? {} : { reason }),
    });
  const answerInput = (runId: string, inputId: string, answer: InputAnswer) =>
    trpc.chat.answerInput.mutate({ run_id: runId, input_id: inputId, ...answer });
  const connectMcpServer = async (name: string): Promise<McpConnectResult> => {
    const response = await fetch(`${options.url.replace(/\/+$/, "")}/mcp/servers/${encodeURIComponent(name)}/connect`, {
      method: "POST",
      headers: headers(),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: unknown; code?: unknown };
    if (!response.ok) {
      const message = typeof body.error === "string" ? body.error : `Brook answered ${response.status}.`;
      throw new BrookHttpError(message, response.status, typeof body.code === "string" ? body.code : undefined);
    }
    return body as McpConnectResult;
  };
  return { trpc, streamChat, startChat, readRun, streamObject, approve, deny, answerInput, connectMcpServer };
}

/** Asks `onApproval` about a waiting tool call and sends its answer; another's earlier answer is no failure. */
async function answerApproval(
  trpc: TRPCClient<AppRouter>,
  onApproval: NonNullable<StreamChatOptions["onApproval"]>,
  request: ApprovalRequest,
): Promise<void> {
  const answer = await onApproval(request);
  if (answer === undefined) return;
  try {
    await trpc.chat.approve.mutate({ run_id: request.runId, approval_id: request.event.approval_id, ...answer });
  } catch (error) {
    if (!(error instanceof TRPCClientError && error.data?.brook_code === "already_answered")) throw error;
  }
}

/** Asks `onInputRequest` about a server's question and sends its answer; another's earlier answer is no failure. */
async function answerInputRequest(
  trpc: TRPCClient<AppRouter>,
  onInputRequest: NonNullable<StreamChatOptions["onInputRequest"]>,
  request: InputRequest,
): Promise<void> {
  const answer = await onInputRequest(request);
  if (answer === undefined) return;
  try {
    await trpc.chat.answerInput.mutate({ run_id: request.runId, input_id: request.event.input_id, ...answer });
  } catch (error) {
    if (!(error instanceof TRPCClientError && error.data?.brook_code === "already_answered")) throw error;
  }
}

/** Asks the server to cancel a run, without waiting: its stream reports the end. */
function cancelRun(trpc: TRPCClient<AppRouter>, runId: string): void {
  trpc.chat.cancel.mutate({ run_id: runId }).catch(() => {});
}

async function startRun(trpc: TRPCClient<AppRouter>, request: ChatRequest, signal: AbortSignal | undefined) {
  signal?.throwIfAborted();
  // Starting through a mutation keeps long inputs (history) out of the subscription URL.
  const starting = trpc.chat.start.mutate(request);
  try {
    return (await untilAborted(starting, signal)).run_id;
  } catch (error) {
    // The server may have started the run before the abort: cancel it once its id arrives.
    if (signal?.aborted) starting.then(({ run_id }) => cancelRun(trpc, run_id)).catch(() => {});
    throw error;
  }
}

function isTerminal(event: ChatEvent): boolean {
  return event.type === "complete" || event.type === "error";
}

async function* readRunEvents(
  trpc: TRPCClient<AppRouter>,
  runId: string,
  { signal, stop, stopTimeoutMs = defaultStopTimeoutMs, lastEventId, onApproval, onInputRequest }: ReadRunOptions,
): AsyncGenerator<TrackedChatEvent, void, undefined> {
  signal?.throwIfAborted();
  const queue = new EventQueue<TrackedChatEvent>();
  const subscription = trpc.chat.events.subscribe(
    lastEventId === undefined ? { run_id: runId } : { run_id: runId, lastEventId },
    {
      onData: (tracked) => queue.push({ id: tracked.id, event: tracked.data }),
      onError: (error) => queue.fail(error),
      onComplete: () => queue.end(),
    },
  );
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    cancelRun(trpc, runId);
  };
  // An abort stops the stream at once, whatever is still queued.
  const onAbort = () => queue.fail(signal?.reason, { discardQueued: true });
  // A stop keeps what is queued and waits for the run's last word, but not for ever.
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  const onStop = () => {
    cancel();
    stopTimer = setTimeout(() => queue.fail(stop?.reason), stopTimeoutMs);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (stop?.aborted) onStop();
  else stop?.addEventListener("abort", onStop, { once: true });
  let ended = false;
  try {
    signal?.throwIfAborted();
    for (;;) {
      const tracked = await queue.next();
      if (tracked === undefined) return;
      ended = isTerminal(tracked.event);
      if (onApproval !== undefined && tracked.event.type === "tool_approval") {
        // The stream goes on while a person decides; a failed answer ends it.
        answerApproval(trpc, onApproval, { runId, event: tracked.event }).catch((error: unknown) => queue.fail(error));
      }
      if (onInputRequest !== undefined && tracked.event.type === "input_request") {
        answerInputRequest(trpc, onInputRequest, { runId, event: tracked.event }).catch((error: unknown) =>
          queue.fail(error),
        );
      }
      yield tracked;
      if (ended) return;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stop?.removeEventListener("abort", onStop);
    clearTimeout(stopTimer);
    subscription.unsubscribe();
    // Aborted, broken out of, or failed before the end: the run must not go on without a reader.
    if (!ended) cancel();
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Buffers pushed items for one pulling consumer. */
class EventQueue<T> {
  #items: T[] = [];
  #waiter: { resolve: (item: T | undefined) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  push(item: T): void {
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  end(): void {
    this.#ended = true;
    this.#waiter?.resolve(undefined);
    this.#waiter = undefined;
  }

  fail(error: unknown, options: { discardQueued?: boolean } = {}): void {
    if (options.discardQueued) this.#items.length = 0;
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  next(): Promise<T | undefined> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}
