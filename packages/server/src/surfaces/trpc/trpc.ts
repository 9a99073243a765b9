import type { Health, Stats, ToolList, TrpcErrorData } from "@brook/shared";
import { getTRPCErrorFromUnknown, initTRPC, type TRPCError } from "@trpc/server";
import type { RunControl } from "../../control/run-control.js";
import { BrookError } from "../../errors/brook-error.js";
import { asBrookError, toTrpcError, trpcErrorData } from "../../errors/error-shapes.js";

/**
 * What the procedures use of Brook. Kept to interfaces of Brook's own wire types, so that the
 * router's type (which carries its context) is self-contained for the typed client.
 */
export interface TrpcServices {
  health(): Health;
  toolList(): ToolList;
  readonly stats: { snapshot(): Promise<Stats>; reset(): Promise<Stats> };
  readonly control: RunControl;
}

export interface TrpcContext {
  services: TrpcServices;
  /** The caller presented a valid API key (or none is required). */
  authorized: boolean;
  /** The identity of the caller's key: the runs it starts are its own. Undefined when keys are off. */
  owner: string | undefined;
  /** The caller presented an admin key (BROOK_ADMIN_KEYS), or no key is required. */
  admin: boolean;
  /** Counts one more request against RATE_LIMIT_RPM (a batch's calls after its first); throws `rate_limited` past it. */
  countCall(): Promise<void>;
}

/** SSE pings keep proxies and the client's inactivity check happy; they must come more often than it checks. */
const pingMs = 10_000;

export const t = initTRPC.context<TrpcContext>().create({
  sse: {
    ping: { enabled: true, intervalMs: pingMs },
    client: { reconnectAfterInactivityMs: pingMs * 2 },
  },
  errorFormatter({ shape, error }) {
    const { error: brook, isBug } = asBrookError(error.cause ?? error);
    // Unexpected errors keep their details in the server log, never on the wire.
    const hidden = isBug && error.code === "INTERNAL_SERVER_ERROR";
    const known = isBug ? undefined : brook;
    const brookData = known === undefined ? undefined : trpcErrorData(known);
    const data: TrpcErrorData = {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      path: shape.data.path,
      brook_code: known?.code ?? (hidden ? "internal" : undefined),
      retryable: known?.retryable ?? false,
      fields: brookData?.fields,
      usage: brookData?.usage,
      full_content: brookData?.full_content,
    };
    return { message: hidden ? "Internal error." : (known?.message ?? shape.message), code: shape.code, data };
  },
});

/** What tRPC sends for anything thrown: a BrookError as its catalogue's tRPC code (never a retryable 500). */
export function trpcErrorOf(thrown: unknown): TRPCError {
  return thrown instanceof BrookError ? toTrpcError(thrown) : getTRPCErrorFromUnknown(thrown);
}

/** BrookErrors thrown by a procedure leave it with their catalogue's tRPC code. */
const brookErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof BrookError)
    return { ...result, error: trpcErrorOf(result.error.cause) };
  return result;
});

/** Procedures anyone may call (health). */
export const publicProcedure = t.procedure.use(brookErrors);

/**
 * Procedures that need an API key when BROOK_API_KEYS is set. The request counted once against
 * RATE_LIMIT_RPM; each further call of a batch counts once more, so a batch buys no extra calls.
 */
export const apiProcedure = publicProcedure.use(async ({ ctx, next, batchIndex }) => {
  if (!ctx.authorized) throw new BrookError("unauthorized");
  if (batchIndex > 0) await ctx.countCall();
  return next();
});

/** Procedures that need an admin key (BROOK_ADMIN_KEYS) when keys are set. */
export const adminProcedure = apiProcedure.use(({ ctx, next }) => {
  if (!ctx.admin) throw new BrookError("forbidden");
  return next();
});
