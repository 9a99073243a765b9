import type { TrpcErrorData } from "@brook/shared";
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import type { BrookServices } from "../brook-services.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";

export interface TrpcContext {
  services: BrookServices;
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
      fields: input?.fields,
      usage: brook?.usage,
    };
    return { message: hidden ? "Internal error." : (brook?.message ?? shape.message), code: shape.code, data };
  },
});

/** Throws a BrookError as the TRPCError of the catalogue's code, keeping it as the cause. */
export function toTrpcError(error: BrookError): TRPCError {
  return new TRPCError({ code: error.trpcCode, message: error.message, cause: error });
}
