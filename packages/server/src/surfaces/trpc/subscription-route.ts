/**
 * Brook answers the SSE requests of `chat.stream` and `chat.events` itself.
 *
 * Why: tRPC's SSE layer races every value against a ping timer, passes it through several
 * WHATWG streams and writes each event to the socket on its own, which costs several times the
 * CPU per event of the REST stream. This path calls the same procedures through tRPC (input
 * schemas, auth middleware, error mapping, errorFormatter) and then writes the run's events in
 * exactly the wire format of tRPC's `sseStreamProducer`, batched like the REST stream.
 * Requests it does not model (batches, JSONL, bodies, bad connection parameters) go to tRPC's
 * adapter unchanged, as does everything else under /trpc.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { type AnyTRPCProcedure, callTRPCProcedure, getErrorShape, TRPCError } from "@trpc/server";
import { type FastifyTRPCPluginOptions, fastifyRequestHandler } from "@trpc/server/adapters/fastify";
import { parseConnectionParamsFromString, type TRPCRequestInfo } from "@trpc/server/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { closeSignal, streamRun } from "../../encodings/stream-run.js";
import { trpcSseEncoder, trpcSseHeaders, trpcSseWire } from "../../encodings/trpc-sse-encoder.js";
import type { RunLogReader } from "../../storage/run-log.js";
import type { AppRouter } from "./router.js";
import { RunSubscription } from "./run-subscription.js";
import { type TrpcContext, trpcErrorOf } from "./trpc.js";

export type TrpcOptions = FastifyTRPCPluginOptions<AppRouter>["trpcOptions"];

/** The subscriptions served here; each returns a RunSubscription. */
const runSubscriptions = ["chat.stream", "chat.events"] as const;

/**
 * Registers the routes of `chat.stream` and `chat.events` (GET only: HEAD and other methods stay
 * with tRPC's route) in the tRPC plugin's scope. Returns false, registering nothing, when the
 * router's SSE settings are ones the tRPC encoder does not reproduce.
 */
export function registerRunSubscriptionRoutes(app: FastifyInstance, options: TrpcOptions): boolean {
  const config = options.router._def._config;
  const sse = config.sse;
  const pingMs = sse?.ping?.enabled ? (sse.ping.intervalMs ?? 1_000) : 0;
  if (sse?.enabled === false || sse?.maxDurationMs || !(pingMs > 0 && Number.isFinite(pingMs))) return false;

  // Flat at run time (path → procedure), nested in its type.
  const procedures = options.router._def.procedures as unknown as Record<string, AnyTRPCProcedure | undefined>;
  const wire = trpcSseWire(sse?.client ?? {}, (value) => config.transformer.output.serialize(value));

  for (const path of runSubscriptions) {
    app.get(`/${path}`, { exposeHeadRoute: false }, (request, reply) => serve(path, request, reply));
  }
  return true;

  async function serve(path: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = request.url.indexOf("?");
    const params = new URLSearchParams(query === -1 ? "" : request.url.slice(query + 1));
    const { headers } = request;
    const delegate = () => fastifyRequestHandler({ ...options, req: request, res: reply, path });
    // tRPC answers these itself: batches, JSONL streams, requests with a body type, and their errors.
    if (
      params.has("batch") ||
      headers["content-type"] !== undefined ||
      headers["trpc-accept"] !== undefined ||
      headers.accept?.includes("application/jsonl")
    ) {
      return delegate();
    }
    let connectionParams: Record<string, string> | null = null;
    const rawConnectionParams = params.get("connectionParams");
    if (rawConnectionParams !== null) {
      try {
        connectionParams = parseConnectionParamsFromString(rawConnectionParams) as Record<string, string> | null;
      } catch {
        return delegate();
      }
    }

    const res = reply.raw;
    const signal = closeSignal(res);
    // As tRPC's getRequestInfo: the header wins, then the query parameters EventSource polyfills use.
    const lastEventIdHeader = headers["last-event-id"];
    const lastEventId =
      typeof lastEventIdHeader === "string"
        ? lastEventIdHeader
        : (params.get("lastEventId") ?? params.get("Last-Event-Id"));
    let input: unknown;
    const getRawInput = async () => {
      input = readInput(params.get("input"), (value) => config.transformer.input.deserialize(value));
      if (!lastEventId) return input;
      return isObject(input) ? { ...input, lastEventId } : (input ?? { lastEventId });
    };

    let ctx: TrpcContext | undefined;
    const errorShape = (cause: unknown) => {
      const error = trpcErrorOf(cause);
      options.onError?.({ error, path, input, ctx, type: "subscription", req: request });
      return getErrorShape({ config, error, type: "subscription", path, input, ctx });
    };

    const info: TRPCRequestInfo = {
      accept: null,
      type: "subscription",
      isBatchCall: false,
      calls: [{ path, getRawInput, result: () => input, procedure: procedures[path] ?? null, batchIndex: 0 }],
      connectionParams,
      signal,
      url: null,
    };
    let subscription: unknown;
    let reader: RunLogReader | undefined;
    let refusal: unknown;
    try {
      ctx = await options.createContext({ req: request, res: reply, info });
      subscription = await callTRPCProcedure({
        router: options.router,
        path,
        getRawInput,
        ctx,
        type: "subscription",
        signal,
        batchIndex: 0,
      });
      if (!(subscription instanceof RunSubscription)) {
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Subscription ${path} did not return a run` });
      }
      reader = subscription.reader();
    } catch (cause) {
      refusal = cause;
    }

    // The response head as tRPC builds it: its SSE headers, then what responseMeta adds (a
    // subscription's head never carries errors), set on the reply as its Fastify adapter does.
    const meta = options.responseMeta?.({
      ctx,
      info,
      paths: [path],
      type: "subscription",
      errors: [],
      eagerGeneration: true,
      data: [],
    });
    if (meta?.headers === undefined) {
      for (const [name, value] of Object.entries(trpcSseHeaders)) reply.header(name, value);
    } else {
      const merged = new Headers();
      for (const [name, value] of Object.entries(trpcSseHeaders)) merged.set(name, value);
      const extra = meta.headers instanceof Headers ? [...meta.headers] : Object.entries(meta.headers);
      for (const [name, value] of extra) {
        if (Array.isArray(value)) for (const item of value) merged.append(name, item);
        else if (typeof value === "string") merged.set(name, value);
      }
      for (const [name, value] of merged) reply.header(name, value);
    }
    reply.hijack();
    // Fastify's own headers (CORS, rate limit) with tRPC's, as Fastify would send them.
    const head = { status: meta?.status ?? 200, headers: reply.getHeaders() as OutgoingHttpHeaders };
    if (reader === undefined || !(subscription instanceof RunSubscription)) {
      // Refused before any event (bad input, no key, unknown run, overloaded, draining): tRPC
      // still answers with the `connected` event, then the formatted error.
      res.writeHead(head.status, head.headers);
      res.end(signal.aborted ? wire.connected : wire.connected + wire.error(errorShape(refusal)));
      return;
    }
    await streamRun(res, reader, trpcSseEncoder(subscription.log.runId, wire, errorShape), {
      pingMs,
      signal,
      ...head,
    });
  }
}

/** The `input` query parameter as tRPC's getRequestInfo reads it: JSON, errors as BAD_REQUEST. */
function readInput(raw: string | null, deserialize: (value: unknown) => unknown): unknown {
  if (!raw) return undefined;
  try {
    return deserialize(JSON.parse(raw));
  } catch (cause) {
    if (cause instanceof TRPCError) throw cause;
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: cause instanceof Error ? cause.message : "Invalid input",
      cause,
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === "object";
}
