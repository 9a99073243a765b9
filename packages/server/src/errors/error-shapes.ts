/**
 * The one place where a BrookError becomes what a caller sees: a stream's `error` event, a REST
 * error body, a tRPC error and its `data`, OpenAI's error body, the AI SDK's error text.
 * Anything thrown becomes a BrookError here too.
 */
import type { ErrorBody, ErrorEvent, OpenAIErrorBody, TrpcErrorData, Usage } from "@brook/shared";
import { TRPCError } from "@trpc/server";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { z } from "zod";
import { BrookError } from "./brook-error.js";
import { InputError } from "./input-error.js";

/** A run's terminal `error` event. */
export function errorEvent(error: BrookError, usage: Usage): ErrorEvent {
  return { type: "error", error: error.message, code: error.code, retryable: error.retryable, usage };
}

/** The JSON body of a refused or failed REST request. */
export function errorBody(error: BrookError): ErrorBody {
  const body: ErrorBody = { error: error.message, code: error.code, retryable: error.retryable };
  if (error.usage !== undefined) body.usage = error.usage;
  if (error instanceof InputError) body.fields = error.fields;
  return body;
}

/** The TRPCError of the catalogue's code, keeping the BrookError as its cause (for the formatter). */
export function toTrpcError(error: BrookError): TRPCError {
  return new TRPCError({ code: error.trpcCode, message: error.message, cause: error });
}

/** What every tRPC error carries in `data`; `path` is the procedure's, when known. */
export function trpcErrorData(error: BrookError, path?: string): TrpcErrorData {
  return {
    code: error.trpcCode,
    httpStatus: error.status,
    ...(path === undefined || path === "" ? {} : { path }),
    brook_code: error.code,
    retryable: error.retryable,
    ...(error instanceof InputError ? { fields: error.fields } : {}),
    ...(error.usage === undefined ? {} : { usage: error.usage }),
  };
}

/** A refusal made before tRPC ran (origin, rate limit, body size), in tRPC's error envelope. */
export function trpcErrorEnvelope(error: BrookError, path: string) {
  return {
    error: { message: error.message, code: TRPC_ERROR_CODES_BY_KEY[error.trpcCode], data: trpcErrorData(error, path) },
  };
}

/**
 * OpenAI's error body (`/v1`), the status staying the catalogue's (OpenAI's own for the same
 * failures): the SDKs pick their typed error by it. `param` names the first field at fault.
 */
export function openAIErrorBody(error: BrookError): OpenAIErrorBody {
  const param = error instanceof InputError ? (Object.keys(error.fields)[0] ?? null) : null;
  return { error: { message: error.message, type: openAIErrorType(error.status), param, code: openAICode(error) } };
}

/**
 * The headers of an OpenAI-shaped refusal: the catalogue's, and `x-should-retry` where Brook
 * knows better than the status (the SDKs retry 408, 409, 429 and 5xx unless told otherwise).
 */
export function openAIErrorHeaders(error: BrookError): Record<string, string> {
  const { status } = error;
  const retriedByStatus = status === 408 || status === 409 || status === 429 || status >= 500;
  return retriedByStatus === error.retryable
    ? error.headers
    : { ...error.headers, "x-should-retry": String(error.retryable) };
}

function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** OpenAI's codes where clients look for them; Brook's own for the rest. */
function openAICode(error: BrookError): string {
  if (error.code === "unauthorized") return "invalid_api_key";
  if (error.code === "rate_limited") return "rate_limit_exceeded";
  return error.code;
}

/** The AI SDK shows a failure's text as it is (an `error` chunk, or the body of a refusal): the human message. */
export function uiErrorText(error: BrookError): string {
  return error.message;
}

/**
 * Whatever was thrown, as a BrookError: catalogued errors as they are, invalid input naming its
 * fields, HTTP-level refusals (bad JSON, a body too large) by their status. Anything else is a
 * bug: `internal`, with no detail for the caller (`isBug` says so, for the log).
 */
export function asBrookError(thrown: unknown): { error: BrookError; isBug: boolean } {
  if (thrown instanceof BrookError) return { error: thrown, isBug: false };
  if (thrown instanceof z.ZodError) return { error: InputError.fromZod(thrown), isBug: false };
  const status = (thrown as { statusCode?: unknown } | null)?.statusCode;
  if (status === 413) return { error: new BrookError("payload_too_large"), isBug: false };
  if (typeof status === "number" && status >= 400 && status < 500) {
    // Fastify's own 4xx texts (bad JSON, bad headers) are safe to pass on.
    const message = (thrown as Error).message;
    return { error: new InputError({ body: [message] }, message), isBug: false };
  }
  return { error: new BrookError("internal"), isBug: true };
}
