import { routeOf } from "@brook/shared";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import fastifyPlugin from "fastify-plugin";
import type { ApiKeys } from "../access/api-keys.js";
import { isOpenRoute } from "../access/open-routes.js";
import { OriginPolicy } from "../access/origin-policy.js";
import type { Config } from "../config/config.js";
import { BrookError } from "../errors/brook-error.js";

export interface AccessOptions {
  config: Config;
  apiKeys: ApiKeys;
}

/**
 * Who may call Brook, for every route: browsers' cross-site calls from origins not allowed are
 * refused before anything runs (a page elsewhere must not spend this server's model budget),
 * then the API key is checked, and an admin key on admin routes (tRPC checks them itself:
 * subscriptions may carry the key as a connection parameter). Listed origins get CORS headers.
 */
export const accessPlugin = fastifyPlugin(async (app: FastifyInstance, { config, apiKeys }: AccessOptions) => {
  const origins = new OriginPolicy(config.CORS_ORIGINS);
  app.addHook("onRequest", async (request) => {
    if (!origins.allows(request.headers)) throw new BrookError("forbidden_origin");
    if (request.method === "OPTIONS" || isOpenRoute(request.method, request.url)) return;
    const access = routeOf(request.url)?.access;
    if (access === "trpc") return;
    if (!apiKeys.accepts(request.headers.authorization)) throw new BrookError("unauthorized");
    if (access === "admin" && !apiKeys.isAdmin(request.headers.authorization)) throw new BrookError("forbidden");
  });
  await app.register(cors, {
    // Same-origin calls need no CORS headers; listed origins get them.
    origin: (origin, callback) => callback(null, origin !== undefined && origins.listed(origin)),
    methods: ["GET", "HEAD", "POST"],
    allowedHeaders: ["authorization", "content-type", "last-event-id", "trpc-accept"],
    exposedHeaders: ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"],
    maxAge: 600,
  });
});
