import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyError, type FastifyInstance, LogController } from "fastify";
import pretty from "pino-pretty";
import { type BrookServices, createServices } from "../brook-services.js";
import type { Config } from "../config/config.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";
import { type AppRouter, appRouter } from "../trpc/router.js";
import { registerRestRoutes } from "./rest-routes.js";
import { findWebDir, registerWebApp } from "./web-app.js";

/** The Fastify app: the seed's REST routes, tRPC at `/trpc`, and `/metrics`. */
export async function createApp(config: Config): Promise<{ app: FastifyInstance; services: BrookServices }> {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      ...((config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty"
        ? { stream: pretty({ translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" }) }
        : {}),
    },
    // One line per run (see brook-services) says more than two per request, and costs less.
    logController: new LogController({ disableRequestLogging: true }),
    // tRPC batch paths and subscription inputs live in the URL.
    routerOptions: { maxParamLength: 5000 },
  });
  const services = createServices(config, app.log);

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

  app.setErrorHandler((error: FastifyError | BrookError, request, reply) => {
    if (error instanceof BrookError) return reply.code(error.status).send(error.toBody());
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(new BrookError("payload_too_large").toBody());
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx texts (bad JSON, bad headers) are safe to pass on.
      return reply.code(400).send(new BrookError("bad_request", error.message).toBody({ body: [error.message] }));
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send(new BrookError("internal").toBody());
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(new BrookError("not_found", `No route ${request.method} ${request.url.split("?")[0]}.`).toBody()),
  );

  const webDir = findWebDir(config.WEB_DIR);
  registerRestRoutes(app, services, webDir === undefined ? undefined : await registerWebApp(app, webDir));

  app.get("/metrics", async (_request, reply) =>
    reply.type(services.stats.registry.contentType).send(await services.stats.registry.metrics()),
  );

  // Registered plainly, not through fastify-plugin: it swaps the JSON parser in its own scope only.
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: () => ({ services }),
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          app.log.error({ err: error.cause ?? error, path }, "tRPC call failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  return { app, services };
}
