import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { BrookServices } from "../brook-services.js";
import { requestBodyLimit } from "../config/config.js";
import {
  clientErrorRefusal,
  errorBody,
  errorHandler,
  maxParamLength,
  restErrorReply,
  sendError,
} from "../errors/error-shapes.js";
import { InputError } from "../errors/input-error.js";
import { accessPlugin } from "./access-plugin.js";
import { aiSdkPlugin } from "./ai-sdk/ai-sdk-plugin.js";
import { limitsPlugin } from "./limits-plugin.js";
import { openAIPlugin } from "./openai/openai-plugin.js";
import { openAPIPlugin } from "./openapi/openapi-plugin.js";
import { mcpConnectRoutes } from "./rest/mcp-connect-routes.js";
import { restPlugin } from "./rest/rest-plugin.js";
import { routeMiss } from "./route-miss.js";
import { trpcPlugin } from "./trpc/trpc-plugin.js";
import { findWebDir, registerWebApp } from "./web-app.js";

/**
 * The HTTP side of Brook: one Fastify app, with access and limits for every route, then one
 * plugin per surface (REST, tRPC, the web app), each in its own scope. Services come built.
 */
export async function createHttpApp(services: BrookServices): Promise<FastifyInstance> {
  const { config } = services;
  const loggerInstance: FastifyBaseLogger = services.log;
  const app = Fastify({
    loggerInstance,
    // One line per run (see observers) says more than two per request, and costs less.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies beyond what the attachment limits allow are refused before they are parsed.
    bodyLimit: requestBodyLimit(config),
    // tRPC batch paths and subscription inputs live in the URL.
    routerOptions: { maxParamLength },
    // A bad or too long URL is refused before routing: in REST's shape, naming the URL.
    frameworkErrors: errorHandler(restErrorReply),
    // Node refuses a request before Fastify sees it (too slow, headers too large): in REST's shape too.
    clientErrorHandler: refuseClient,
    // `__proto__` and `constructor.prototype` keys are dropped from JSON bodies, as tRPC's input
    // schemas drop them: the same body is accepted on every surface, and never reaches a prototype.
    onProtoPoisoning: "remove",
    onConstructorPoisoning: "remove",
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

  // Before anything else, so that every route and hook runs inside the request's span.
  if (services.telemetry !== undefined) await app.register(services.telemetry.httpPlugin);

  // Any body that parses as JSON is accepted: browsers send `fetch` string bodies as text/plain
  // (Fastify's own text/plain parser would win over "*" and hand the schema a string).
  // Parsed as Fastify parses JSON (poisoned keys removed), with REST's words for bad JSON.
  const parseJson = app.getDefaultJsonParser("remove", "remove");
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser(["text/plain", "*"], { parseAs: "string" }, (request, body, done) => {
    if (body === "") return done(null, undefined);
    parseJson(request, body as string, (error, value) =>
      error === null
        ? done(null, value)
        : done(new InputError({ body: ["The request body is not valid JSON."] }), undefined),
    );
  });

  // REST's error shape, for every scope that does not answer in its own (tRPC does).
  app.setErrorHandler(errorHandler(restErrorReply));
  app.setNotFoundHandler((request, reply) => {
    const { error, headers } = routeMiss(request.method, request.url);
    return sendError(reply, error, restErrorReply, headers);
  });

  if (config.LOG_LEVEL === "debug" || config.LOG_LEVEL === "trace") {
    app.addHook("onResponse", async (request, reply) => {
      request.log.debug(
        { req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        "request completed",
      );
    });
  }

  await app.register(accessPlugin, { config, apiKeys: services.apiKeys });
  await app.register(limitsPlugin, { config, apiKeys: services.apiKeys, store: services.backend.rateLimitStore });
  const webDir = findWebDir(config.WEB_DIR);
  const web = webDir === undefined ? undefined : await registerWebApp(app, webDir);
  await app.register(restPlugin, { services, web });
  await app.register(mcpConnectRoutes, { authorizations: services.tools.authorizations, log: services.log });
  await app.register(trpcPlugin, { prefix: "/trpc", services });
  await app.register(aiSdkPlugin, { services });
  await app.register(openAIPlugin, { prefix: "/v1", services });
  await app.register(openAPIPlugin, { version: services.version, keysRequired: services.apiKeys.required });
  return app;
}

/** Node's refusals (`clientError`) as REST's JSON; a reset connection has no one to tell. */
function refuseClient(this: FastifyInstance, thrown: Error & { code?: string }, socket: Duplex): void {
  if (thrown.code === "ECONNRESET" || socket.destroyed) return;
  this.log.trace({ err: thrown }, "client error");
  if (socket.writable) {
    const error = clientErrorRefusal(thrown);
    const body = JSON.stringify(errorBody(error));
    const head = [
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}`,
      "Connection: close",
      "Content-Type: application/json; charset=utf-8",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...Object.entries(error.headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
  }
  socket.destroy(thrown);
}
