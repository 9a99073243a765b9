import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import { fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyError, type FastifyInstance, LogController } from "fastify";
import pretty from "pino-pretty";
import { bearerKey, keyIdentity } from "../access/api-keys.js";
import { isOpenRoute, isTrpcRoute } from "../access/open-routes.js";
import { OriginPolicy } from "../access/origin-policy.js";
import { type BrookServices, createServices } from "../brook-services.js";
import type { Config } from "../config/config.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";
import { appRouter } from "../trpc/router.js";
import { registerTrpcSseFastPath, type TrpcOptions } from "../trpc/sse-fast-path.js";
import { trpcErrorResponse } from "../trpc/trpc.js";
import { registerRestRoutes } from "./rest-routes.js";
import { findWebDir, registerWebApp } from "./web-app.js";

export interface AppOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: NodeJS.WritableStream;
}

/** The Fastify app: the seed's REST routes, tRPC at `/trpc`, and `/metrics`. */
export async function createApp(
  config: Config,
  options: AppOptions = {},
): Promise<{ app: FastifyInstance; services: BrookServices }> {
  const prettyLogs = (config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      ...(options.logStream !== undefined
        ? { stream: options.logStream }
        : prettyLogs
          ? { stream: pretty({ translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" }) }
          : {}),
      // Keys never reach a log line, whatever logs a request or its headers.
      redact: {
        paths: ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "authorization"],
        censor: "[redacted]",
      },
      serializers: {
        // Query strings carry messages (GET /chat/stream) and tRPC inputs and connection parameters.
        req: (request: { method: string; url: string; headers: Record<string, unknown>; ip?: string }) => ({
          method: request.method,
          url: config.LOG_CONTENT ? withoutSecrets(request.url) : request.url.split("?", 1)[0],
          remote_address: request.ip,
          headers: request.headers,
        }),
      },
    },
    // One line per run (see brook-services) says more than two per request, and costs less.
    logController: new LogController({ disableRequestLogging: true }),
    // tRPC batch paths and subscription inputs live in the URL.
    routerOptions: { maxParamLength: 5000 },
    // Slow clients: headers and the whole request must arrive in time (slowloris); idle
    // keep-alive sockets close. Responses (long streams) have no time limit here: runs have theirs.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: 0,
    http: {
      headersTimeout: Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS),
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      // Node checks those deadlines on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, config.HEADERS_TIMEOUT_MS / 4)),
    },
  });
  const services = createServices(config, app.log);
  const origins = new OriginPolicy(config.CORS_ORIGINS);

  // Any body that parses as JSON is accepted: browsers send `fetch` string bodies as text/plain
  // (Fastify's own text/plain parser would win over "*" and hand the schema a string).
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser(["text/plain", "*"], { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, body === "" ? undefined : JSON.parse(body as string));
    } catch {
      done(new InputError({ body: ["The request body is not valid JSON."] }), undefined);
    }
  });

  app.setErrorHandler((thrown: FastifyError | BrookError, request, reply) => {
    let error: BrookError;
    let fields: Record<string, string[]> | undefined;
    if (thrown instanceof BrookError) {
      error = thrown;
    } else {
      const status = thrown.statusCode ?? 500;
      if (status === 413) error = new BrookError("payload_too_large");
      else if (status >= 400 && status < 500) {
        // Fastify's own 4xx texts (bad JSON, bad headers) are safe to pass on.
        error = new BrookError("bad_request", thrown.message);
        fields = { body: [thrown.message] };
      } else {
        request.log.error({ err: thrown }, "request failed");
        error = new BrookError("internal");
      }
    }
    reply.headers(error.headers).code(error.status);
    // A refusal before tRPC ran (origin, rate limit) still answers in tRPC's shape on /trpc.
    if (isTrpcRoute(request.url)) return reply.send(trpcErrorResponse(error, request.url));
    return reply.send(error.toBody(fields));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(new BrookError("not_found", `No route ${request.method} ${request.url.split("?")[0]}.`).toBody()),
  );

  // Browsers' cross-site calls from origins not allowed are refused before anything runs
  // (a page elsewhere must not spend this server's model budget); then the API key.
  app.addHook("onRequest", async (request) => {
    if (!origins.allows(request.headers)) throw new BrookError("forbidden_origin");
    if (request.method === "OPTIONS" || isOpenRoute(request.method, request.url) || isTrpcRoute(request.url)) return;
    if (!services.apiKeys.accepts(request.headers.authorization)) throw new BrookError("unauthorized");
  });

  if (config.LOG_LEVEL === "debug" || config.LOG_LEVEL === "trace") {
    app.addHook("onResponse", async (request, reply) => {
      request.log.debug(
        { req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        "request completed",
      );
    });
  }

  await app.register(cors, {
    // Same-origin calls need no CORS headers; listed origins get them.
    origin: (origin, callback) => callback(null, origin !== undefined && origins.listed(origin)),
    methods: ["GET", "HEAD", "POST"],
    allowedHeaders: ["authorization", "content-type", "last-event-id", "trpc-accept"],
    exposedHeaders: ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"],
    maxAge: 600,
  });

  if (config.RATE_LIMIT_RPM > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_RPM,
      timeWindow: 60_000,
      allowList: (request) => isOpenRoute(request.method, request.url),
      // Per key when the caller has a valid one (a made-up key must not buy a fresh budget), else per address.
      keyGenerator: (request) => {
        const key = bearerKey(request.headers.authorization);
        return key !== undefined && services.apiKeys.required && services.apiKeys.accepts(request.headers.authorization)
          ? `key:${keyIdentity(key)}`
          : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) =>
        new BrookError(
          "rate_limited",
          `Too many requests: at most ${context.max} a minute (RATE_LIMIT_RPM); retry in ${context.after}.`,
          { retryAfterS: context.ttl / 1000 },
        ),
    });
  }

  const webDir = findWebDir(config.WEB_DIR);
  registerRestRoutes(app, services, webDir === undefined ? undefined : await registerWebApp(app, webDir));

  app.get("/metrics", async (_request, reply) =>
    reply.type(services.stats.registry.contentType).send(await services.stats.registry.metrics()),
  );

  const trpcOptions = {
    router: appRouter,
    // Browsers' EventSource cannot send headers: their subscriptions carry the key as a connection parameter.
    createContext: ({ req, info }) => ({
      services,
      authorized:
        services.apiKeys.accepts(req.headers.authorization) ||
        services.apiKeys.accepts(info.connectionParams?.authorization),
    }),
    responseMeta({ errors }) {
      const refusal = errors.map((error) => error.cause).find((cause) => cause instanceof BrookError);
      return refusal === undefined ? {} : { headers: refusal.headers };
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR")
        app.log.error({ err: error.cause ?? error, path }, "tRPC call failed");
    },
  } satisfies TrpcOptions;

  // The run subscriptions' SSE streams, written by Brook in tRPC's wire format (see sse-fast-path).
  if (config.TRPC_SSE_FAST_PATH) registerTrpcSseFastPath(app, "/trpc", trpcOptions);
  // Registered plainly, not through fastify-plugin: it swaps the JSON parser in its own scope only.
  await app.register(fastifyTRPCPlugin, { prefix: "/trpc", trpcOptions });

  return { app, services };
}

/** A URL without tRPC's `connectionParams` (browsers' subscriptions carry their key there). */
function withoutSecrets(url: string): string {
  const [path, query] = url.split("?", 2);
  if (query === undefined) return url;
  const params = new URLSearchParams(query);
  if (params.has("connectionParams")) params.set("connectionParams", "[redacted]");
  return `${path}?${params.toString()}`;
}
