import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fastifyPlugin from "fastify-plugin";
import type { Redis } from "ioredis";
import { type ApiKeys, bearerKey, keyIdentity } from "../access/api-keys.js";
import { isOpenRoute } from "../access/open-routes.js";
import type { Config } from "../config/config.js";
import { BrookError } from "../errors/brook-error.js";

export interface LimitsOptions {
  config: Config;
  apiKeys: ApiKeys;
  /** Counts shared by every instance (`REDIS_URL`); without it, each instance counts its own. */
  redis?: Redis | undefined;
}

/** `RATE_LIMIT_RPM` for every route but the open ones (tRPC calls count too). */
export const limitsPlugin = fastifyPlugin(async (app: FastifyInstance, { config, apiKeys, redis }: LimitsOptions) => {
  if (config.RATE_LIMIT_RPM === 0) return;
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_RPM,
    timeWindow: 60_000,
    ...(redis === undefined
      ? {}
      : {
          redis,
          nameSpace: "brook:rate:",
          // Redis away: requests go through rather than fail; the limit is back with Redis.
          skipOnError: true,
        }),
    allowList: (request) => isOpenRoute(request.method, request.url),
    // Per key when the caller has a valid one (a made-up key must not buy a fresh budget), else per address.
    keyGenerator: (request) => {
      const key = bearerKey(request.headers.authorization);
      return key !== undefined && apiKeys.required && apiKeys.accepts(request.headers.authorization)
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
});
