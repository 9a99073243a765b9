import { fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import type { FastifyInstance } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import { asBrookError, errorHandler, trpcErrorEnvelope } from "../../errors/error-shapes.js";
import { appRouter } from "./router.js";
import { registerRunSubscriptionRoutes, type TrpcOptions } from "./subscription-route.js";

export interface TrpcPluginOptions {
  services: BrookServices;
}

/**
 * The tRPC surface, registered under `/trpc` (plainly, not through fastify-plugin: tRPC's plugin
 * swaps the JSON parser, and only this scope may see that). Run subscriptions are written by
 * Brook's own route in tRPC's wire format (`TRPC_SSE_FAST_PATH`); the rest is tRPC's adapter.
 */
export async function trpcPlugin(scope: FastifyInstance, { services }: TrpcPluginOptions): Promise<void> {
  const { apiKeys, config } = services;
  // A refusal made before tRPC ran (origin, rate limit, body size) answers in tRPC's shape too.
  scope.setErrorHandler(errorHandler((error, request) => ({ body: envelopes(error, request.url) })));

  const trpcOptions = {
    router: appRouter,
    // Browsers' EventSource cannot send headers: their subscriptions carry the key as a connection parameter.
    createContext: ({ req, info }) => ({
      services,
      authorized: apiKeys.accepts(req.headers.authorization) || apiKeys.accepts(info.connectionParams?.authorization),
    }),
    responseMeta({ errors }) {
      const refusal = errors.map((error) => asBrookError(error.cause ?? error)).find(({ isBug }) => !isBug);
      return refusal === undefined ? {} : { headers: refusal.error.headers };
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR")
        scope.log.error({ err: error.cause ?? error, path }, "tRPC call failed");
    },
  } satisfies TrpcOptions;

  if (config.TRPC_SSE_FAST_PATH) registerRunSubscriptionRoutes(scope, trpcOptions);
  await scope.register(fastifyTRPCPlugin, { trpcOptions });
}

/** One error per call of a batch (`?batch=1`, paths joined by commas), else a single one. */
function envelopes(error: Parameters<typeof trpcErrorEnvelope>[0], url: string) {
  const [pathname = "", query = ""] = url.split("?", 2);
  let paths: string[];
  try {
    paths = decodeURIComponent(pathname.replace(/^\/trpc\/?/, "")).split(",");
  } catch {
    paths = [""];
  }
  return new URLSearchParams(query).get("batch") === "1"
    ? paths.map((path) => trpcErrorEnvelope(error, path))
    : trpcErrorEnvelope(error, paths[0] ?? "");
}
