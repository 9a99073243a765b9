import type { TrpcErrorData } from "@brook/shared";
import { initTRPC, TRPCError } from "@trpc/server";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { z } from "zod";
import type { BrookServices } from "../brook-services.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";

export interface TrpcContext {
  services: BrookServices;
  /** The caller presented a valid API key (or none is required). */
  authorized: boolean;
}

/** SSE pings keep proxies and the client's inactivity check happy; they must come more often than it checks. */
const pingMs = 10_000;

export const t = initTRPC.context<TrpcContext>().create({
  sse: {
    ping: { enabled: true, intervalMs: pingMs },
    client: { reconnectAfterInactivityMs: pingMs * 2 },
  },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const input = cause instanceof z.ZodError ? InputError.fromZod(cause) : undefined;
    const brook = input ?? (cause instanceof BrookError ? cause : undefined);
    // Unexpected errors keep their details in the server log, never on the wire.
    const hidden = brook === undefined && error.code === "INTERNAL_SERVER_ERROR";
    const data: TrpcErrorData = {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      path: shape.data.path,
      brook_code: brook?.code ?? (hidden ? "internal" : undefined),
      retryable: brook?.retryable ?? false,
      fields: brook instanceof InputError ? brook.fields : undefined,
      usage: brook?.usage,
    };
    return { message: hidden ? "Internal error." : (brook?.message ?? shape.message), code: shape.code, data };
  },
});

/** Throws a BrookError as the TRPCError of the catalogue's code, keeping it as the cause. */
export function toTrpcError(error: BrookError): TRPCError {
  return new TRPCError({ code: error.trpcCode, message: error.message, cause: error });
}

/** Procedures anyone may call (health). */
export const publicProcedure = t.procedure;

/** Procedures that need an API key when BROOK_API_KEYS is set. */
export const apiProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.authorized) throw toTrpcError(new BrookError("unauthorized"));
  return next();
});

/**
 * A refusal made before tRPC ran (origin, rate limit), in tRPC's response shape: one error per
 * call of a batch (`?batch=1`, paths joined by commas), else a single one.
 */
export function trpcErrorResponse(error: BrookError, url: string) {
  const [pathname = "", query = ""] = url.split("?", 2);
  let paths: string[];
  try {
    paths = decodeURIComponent(pathname.replace(/^\/trpc\/?/, "")).split(",");
  } catch {
    paths = [""];
  }
  const envelope = (path: string) => {
    const data: TrpcErrorData = {
      code: error.trpcCode,
      httpStatus: error.status,
      ...(path === "" ? {} : { path }),
      brook_code: error.code,
      retryable: error.retryable,
    };
    return { error: { message: error.message, code: TRPC_ERROR_CODES_BY_KEY[error.trpcCode], data } };
  };
  return new URLSearchParams(query).get("batch") === "1" ? paths.map(envelope) : envelope(paths[0] ?? "");
}
