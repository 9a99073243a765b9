import { fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import type { FastifyInstance } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import { BrookError } from "../../errors/brook-error.js";
import { asBrookError, errorHandler, trpcErrorEnvelope } from "../../errors/error-shapes.js";
import { appRouter } from "./router.js";
import { registerRunSubscriptionRoutes, type TrpcOptions } from "./subscription-route.js";
import type { TrpcServices } from "./trpc.js";

export interface TrpcPluginOptions {
  /** What the procedures may touch, and what the plugin itself checks: keys, batch size, the fast path. */
  services: TrpcServices & {
    readonly apiKeys: Pick<BrookServices["apiKeys"], "accepts" | "ownerOf" | "isAdmin">;
    readonly config: Pick<BrookServices["config"], "MAX_BATCH_SIZE" | "TRPC_SSE_FAST_PATH">;
  };
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
    createContext: ({ req, info }) => {
      const header = req.headers.authorization;
      const credential = apiKeys.accepts(header) ? header : info.connectionParams?.authorization;
      return {
        services,
        authorized: apiKeys.accepts(credential),
        owner: apiKeys.ownerOf(credential),
        admin: apiKeys.isAdmin(credential),
        countCall: () => scope.countRequest(req),
      };
    },
    responseMeta({ errors }) {
      const refusal = errors.map((error) => asBrookError(error.cause ?? error)).find(({ isBug }) => !isBug);
      return refusal === undefined ? {} : { headers: refusal.error.headers };
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR")
        scope.log.error({ err: error.cause ?? error, path }, "tRPC call failed");
    },
  } satisfies TrpcOptions;

  // Each call of a batch may start a model call: a batch holds at most MAX_BATCH_SIZE of them.
  scope.addHook("onRequest", async (request) => {
    const calls = batchSize(request.url);
    if (calls > config.MAX_BATCH_SIZE) {
      throw new BrookError(
        "bad_request",
        `A tRPC batch may hold at most ${config.MAX_BATCH_SIZE} calls (MAX_BATCH_SIZE); this one holds ${calls}.`,
      );
    }
  });

  if (config.TRPC_SSE_FAST_PATH) registerRunSubscriptionRoutes(scope, trpcOptions);
  await scope.register(fastifyTRPCPlugin, { trpcOptions });
}

/** The calls of a batch request (`?batch=1`, paths joined by commas); 1 for any other request. */
function batchSize(url: string): number {
  const query = url.indexOf("?");
  if (query === -1 || new URLSearchParams(url.slice(query + 1)).get("batch") !== "1") return 1;
  // A comma may come percent-encoded: both forms count.
  return (url.slice(0, query).match(/,|%2c/gi) ?? []).length + 1;
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
