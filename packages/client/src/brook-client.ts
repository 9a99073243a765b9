import type { AppRouter } from "@brook/server";
import { type ChatEvent, type ChatRequest, isTerminal } from "@brook/shared";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
} from "@trpc/client";
import { EventSource as NodeEventSource } from "eventsource";

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
  /** Aborting it stops the stream and cancels the run on the server (the model call is aborted). */
  signal?: AbortSignal;
}

export interface BrookClient {
  /** The typed tRPC client: every procedure of Brook's router. */
  readonly trpc: TRPCClient<AppRouter>;
  /**
   * Starts a run and yields its events until the terminal one. A dropped connection is resumed
   * where it broke (no second model call); aborting `signal` cancels the run.
   */
  streamChat(request: ChatRequest, options?: StreamChatOptions): AsyncGenerator<ChatEvent, void, undefined>;
}

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
  const subscriptions =
    browserEventSource === undefined
      ? httpSubscriptionLink<AppRouter, typeof NodeEventSource>({
          url: base,
          EventSource: NodeEventSource,
          // Node's EventSource sends headers through its fetch; browsers' cannot send any.
          eventSourceOptions: () => ({
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers() } }),
          }),
        })
      : httpSubscriptionLink<AppRouter, typeof globalThis.EventSource>({
          url: base,
          EventSource: browserEventSource,
          connectionParams: () => {
            const bearer = authorization();
            return bearer === undefined ? null : { authorization: bearer };
          },
        });
  const links: TRPCLink<AppRouter>[] = [
    splitLink({
      condition: (operation) => operation.type === "subscription",
      true: subscriptions,
      false: httpBatchLink({ url: base, headers }),
    }),
  ];
  const trpc = createTRPCClient<AppRouter>({ links });

  return {
    trpc,
    streamChat: (request, streamOptions) => streamChat(trpc, request, streamOptions?.signal),
  };
}

async function* streamChat(
  trpc: TRPCClient<AppRouter>,
  request: ChatRequest,
  signal: AbortSignal | undefined,
): AsyncGenerator<ChatEvent, void, undefined> {
  signal?.throwIfAborted();
  const cancel = (runId: string) => {
    // Fire and forget: the caller has stopped listening already.
    trpc.chat.cancel.mutate({ run_id: runId }).catch(() => {});
  };
  // Starting through a mutation keeps long inputs (history) out of the subscription URL.
  const starting = trpc.chat.start.mutate(request);
  let runId: string;
  try {
    ({ run_id: runId } = await untilAborted(starting, signal));
  } catch (error) {
    // The server may have started the run before the abort: cancel it once its id arrives.
    if (signal?.aborted) starting.then(({ run_id }) => cancel(run_id)).catch(() => {});
    throw error;
  }

  const queue = new EventQueue();
  const subscription = trpc.chat.events.subscribe(
    { run_id: runId },
    {
      onData: (tracked) => queue.push(tracked.data),
      onError: (error) => queue.fail(error),
      onComplete: () => queue.end(),
    },
  );
  // An abort stops the stream at once, whatever is still queued.
  const onAbort = () => queue.fail(signal?.reason, { discardQueued: true });
  signal?.addEventListener("abort", onAbort, { once: true });
  let ended = false;
  try {
    signal?.throwIfAborted();
    for (;;) {
      const event = await queue.next();
      if (event === undefined) return;
      ended = isTerminal(event);
      yield event;
      if (ended) return;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    subscription.unsubscribe();
    // Aborted, broken out of, or failed before the end: the run must not go on without a reader.
    if (!ended) cancel(runId);
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

/** Buffers pushed events for one pulling consumer. */
class EventQueue {
  #items: ChatEvent[] = [];
  #waiter: { resolve: (event: ChatEvent | undefined) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  push(event: ChatEvent): void {
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(event);
    } else {
      this.#items.push(event);
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

  next(): Promise<ChatEvent | undefined> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}
