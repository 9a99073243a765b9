import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifyPlugin from "fastify-plugin";
import { type ApiKeys, bearerKey, keyIdentity } from "../access/api-keys.js";
import { isOpenRoute } from "../access/open-routes.js";
import type { RateLimitStore } from "../backends/backend.js";
import type { Config } from "../config/config.js";
import { BrookError } from "../errors/brook-error.js";

export interface LimitsOptions {
  config: Pick<Config, "RATE_LIMIT_RPM">;
  apiKeys: Pick<ApiKeys, "required" | "accepts">;
  /** Where counts live: the backend's, shared by every instance when it is shared; else each instance counts its own. */
  store: RateLimitStore;
}

declare module "fastify" {
  interface FastifyInstance {
    /**
     * Counts one more request of `request`'s caller against RATE_LIMIT_RPM, in the same count
     * (and the same store) as whole requests: each call of a tRPC batch after its first. Throws
     * `rate_limited` past the limit; does nothing when there is none.
     */
    countRequest(request: FastifyRequest): Promise<void>;
  }
}

/** `RATE_LIMIT_RPM` for every route but the open ones (tRPC calls count too, each call of a batch). */
export const limitsPlugin = fastifyPlugin(async (app: FastifyInstance, { config, apiKeys, store }: LimitsOptions) => {
  if (config.RATE_LIMIT_RPM === 0) {
    app.decorate("countRequest", async () => {});
    return;
  }
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_RPM,
    timeWindow: 60_000,
    ...store,
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
  // The same store and key as the limit above: one count per caller.
  const count = app.createRateLimit();
  const check = async (request: FastifyRequest) => {
    const outcome = await count(request);
    if (outcome.isAllowed || !outcome.isExceeded) return;
    throw new BrookError(
      "rate_limited",
      `Too many requests: at most ${outcome.max} a minute (RATE_LIMIT_RPM), each call of a batch counted; retry in ${outcome.ttlInSeconds} s.`,
      { retryAfterS: outcome.ttl / 1000 },
    );
  };
  // A batch's calls are counted one after the other: the in-process store hands every count of
  // one key the same object, so counts made at once would all read the last one's total.
  const pending = new WeakMap<FastifyRequest, Promise<void>>();
  app.decorate("countRequest", (request: FastifyRequest) => {
    const counted = (pending.get(request) ?? Promise.resolve()).then(
      () => check(request),
      () => check(request),
    );
    pending.set(request, counted);
    return counted;
  });
});
