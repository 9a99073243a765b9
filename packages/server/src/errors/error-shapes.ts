/**
 * The one place where a BrookError becomes what a caller sees: a stream's `error` event, a REST
 * error body, a tRPC error and its `data`, OpenAI's error body, the AI SDK's error text.
 * Anything thrown becomes a BrookError here too.
 */
import type { ErrorBody, ErrorEvent, OpenAIErrorBody, TrpcErrorData, Usage } from "@brook/shared";
import { TRPCError } from "@trpc/server";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { BrookError } from "./brook-error.js";
import { InputError } from "./input-error.js";

/** A run's terminal `error` event. */
export function errorEvent(error: BrookError, usage: Usage, fullContent?: string): ErrorEvent {
  const event: ErrorEvent = {
    type: "error",
    error: error.message,
    code: error.code,
    retryable: error.retryable,
    usage,
  };
  if (fullContent !== undefined) event.full_content = fullContent;
  return event;
}

/** A run's `error` event as the BrookError it reports (with the usage it had). */
export function fromErrorEvent(event: ErrorEvent): BrookError {
  return new BrookError(event.code, event.error, {
    usage: event.usage,
    ...(event.full_content === undefined ? {} : { fullContent: event.full_content }),
  });
}

/**
 * What a reader of a run throws once its caller has gone: anything that is not already Brook's
 * own failure is the caller leaving (a cancelled request, not a server failure).
 */
export function callerLeft(thrown: unknown, signal: AbortSignal): unknown {
  return signal.aborted && !(thrown instanceof BrookError) ? new BrookError("cancelled") : thrown;
}

/** The JSON body of a refused or failed REST request. */
export function errorBody(error: BrookError): ErrorBody {
  const body: ErrorBody = { error: error.message, code: error.code, retryable: error.retryable };
  if (error.usage !== undefined) body.usage = error.usage;
  if (error instanceof InputError) body.fields = error.fields;
  if (error.fullContent !== undefined) body.full_content = error.fullContent;
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
    ...(error.fullContent === undefined ? {} : { full_content: error.fullContent }),
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
  if (error.code === "rate_limited" || error.code === "upstream_rate_limited") return "rate_limit_exceeded";
  return error.code;
}

/** The AI SDK shows a failure's text as it is (an `error` chunk, or the body of a refusal): the human message. */
export function uiErrorText(error: BrookError): string {
  return error.message;
}

/**
 * Whatever was thrown, as a BrookError: catalogued errors as they are, invalid input naming its
 * fields, Fastify's and Node's refusals (bad JSON, a bad URL, a body too large) by their code and
 * status. Anything else is a bug: `internal`, with no detail for the caller (`isBug` says so, for the log).
 */
export function asBrookError(thrown: unknown): { error: BrookError; isBug: boolean } {
  if (thrown instanceof BrookError) return { error: thrown, isBug: false };
  if (thrown instanceof z.ZodError) return { error: InputError.fromZod(thrown), isBug: false };
  const refusal = frameworkRefusal(thrown);
  return refusal === undefined ? { error: new BrookError("internal"), isBug: true } : { error: refusal, isBug: false };
}

/** A 4xx raised by Fastify, a Fastify plugin or Node, in the catalogue; undefined for anything else. */
function frameworkRefusal(thrown: unknown): BrookError | undefined {
  const {
    statusCode: status,
    code,
    message,
  } = (thrown ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof status !== "number" || status < 400 || status >= 500) return undefined;
  const text = typeof message === "string" ? message : "";
  if (status === 413) return new BrookError("payload_too_large");
  switch (code) {
    case "FST_ERR_BAD_URL":
      return new InputError({ url: ["The path is not validly percent-encoded."] }, `Invalid request: url: ${text}`);
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new InputError(
        { url: [`A path segment is longer than ${maxParamLength} characters.`] },
        `Invalid request: url: a path segment is longer than ${maxParamLength} characters.`,
      );
    default:
      break;
  }
  // @fastify/static refuses a folder (403) or a missing file (404): either way nothing is there.
  if (status === 403 || status === 404) return new BrookError("not_found");
  // Fastify's own texts about the body (bad JSON, a bad length) are safe to pass on.
  return new InputError({ body: [text] }, text);
}

/**
 * A request Node refused before Fastify saw it (`clientError`): too slow, headers too large, not
 * HTTP at all.
 */
export function clientErrorRefusal(thrown: { code?: string; message?: string }): BrookError {
  if (thrown.code === "ERR_HTTP_REQUEST_TIMEOUT") return new BrookError("request_timeout");
  if (thrown.code === "HPE_HEADER_OVERFLOW") {
    return new InputError({ headers: ["The request headers are larger than 16 KiB, the most Brook reads."] });
  }
  return new InputError({ request: [`The request is not valid HTTP (${thrown.code ?? "parse error"}).`] });
}

/** The longest path segment the router takes (tRPC batch paths and subscription inputs live in the URL). */
export const maxParamLength = 5000;

/** One surface's refusal: its body, and its headers when they are not the catalogue's. */
export interface ErrorReply {
  body: unknown;
  headers?: Record<string, string>;
  /** The content type, when not JSON. */
  type?: string;
}

/** Sends `error` with the catalogue's status, in a surface's shape. */
export function sendError(
  reply: FastifyReply,
  error: BrookError,
  shape: (error: BrookError) => ErrorReply,
  extraHeaders: Record<string, string> = {},
): FastifyReply {
  const { body, headers = error.headers, type } = shape(error);
  reply.code(error.status).headers({ ...headers, ...extraHeaders });
  if (type !== undefined) reply.type(type);
  return reply.send(body);
}

/** A Fastify error handler answering in a surface's shape; bugs go to the log, not to the caller. */
export function errorHandler(shape: (error: BrookError, request: FastifyRequest) => ErrorReply) {
  return (thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { error, isBug } = asBrookError(thrown);
    if (isBug) request.log.error({ err: thrown }, "request failed");
    return sendError(reply, error, (brook) => shape(brook, request));
  };
}

/** REST's shape of a refusal (every scope that has no shape of its own). */
export const restErrorReply = (error: BrookError): ErrorReply => ({ body: errorBody(error) });

/** OpenAI's shape of a refusal (`/v1`). */
export const openAIErrorReply = (error: BrookError): ErrorReply => ({
  body: openAIErrorBody(error),
  headers: openAIErrorHeaders(error),
});

/** The AI SDK shows a refusal's body as the error's message: plain text, not JSON. */
export const uiErrorReply = (error: BrookError): ErrorReply => ({
  body: uiErrorText(error),
  type: "text/plain; charset=utf-8",
});
