import { z } from "zod";

/**
 * The one error catalogue: every failure Brook reports carries one of these stable codes.
 * Each code fixes its HTTP status, its tRPC code and whether retrying the same request may help.
 */
export const errorCatalogue = {
  bad_request: { status: 400, trpc: "BAD_REQUEST", retryable: false, message: "The request is invalid." },
  unauthorized: {
    status: 401,
    trpc: "UNAUTHORIZED",
    retryable: false,
    message: "A valid API key is required: send Authorization: Bearer <key>.",
    headers: { "www-authenticate": 'Bearer realm="Brook"' },
  },
  forbidden_origin: {
    status: 403,
    trpc: "FORBIDDEN",
    retryable: false,
    message: "Requests from this origin are not allowed (see CORS_ORIGINS).",
  },
  forbidden: {
    status: 403,
    trpc: "FORBIDDEN",
    retryable: false,
    message: "This needs an admin key (BROOK_ADMIN_KEYS).",
  },
  not_found: { status: 404, trpc: "NOT_FOUND", retryable: false, message: "Not found." },
  // A second answer to the same approval: the first one stands.
  already_answered: {
    status: 409,
    trpc: "CONFLICT",
    retryable: false,
    message: "This approval or input was answered already (or timed out, or its run ended).",
  },
  method_not_allowed: {
    status: 405,
    trpc: "METHOD_NOT_SUPPORTED",
    retryable: false,
    message: "This route does not answer that method.",
  },
  request_timeout: {
    status: 408,
    trpc: "TIMEOUT",
    retryable: true,
    message: "The request did not arrive in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS).",
  },
  payload_too_large: {
    status: 413,
    trpc: "PAYLOAD_TOO_LARGE",
    retryable: false,
    message:
      "The request body is larger than Brook accepts: 1 MiB (1,048,576 bytes) of text, plus room for MAX_ATTACHMENTS attachments of MAX_ATTACHMENT_BYTES each.",
  },
  overloaded: {
    status: 429,
    trpc: "TOO_MANY_REQUESTS",
    retryable: true,
    message: "Brook is at capacity; retry shortly.",
    headers: { "retry-after": "1" },
  },
  // One key's share of the instance (MAX_RUNS_PER_KEY): the other keys are still served.
  too_many_runs: {
    status: 429,
    trpc: "TOO_MANY_REQUESTS",
    retryable: true,
    message: "This API key has as many answers running as it may (MAX_RUNS_PER_KEY); retry once one ends.",
    headers: { "retry-after": "1" },
  },
  // Brook's own limit (RATE_LIMIT_RPM): the caller's pace.
  rate_limited: {
    status: 429,
    trpc: "TOO_MANY_REQUESTS",
    retryable: true,
    message: "Too many requests (RATE_LIMIT_RPM); retry shortly.",
  },
  // The model server's 429: Brook's pace at the model server, not the caller's.
  upstream_rate_limited: {
    status: 429,
    trpc: "TOO_MANY_REQUESTS",
    retryable: true,
    message: "The model server is rate limiting requests; retry shortly.",
  },
  upstream_auth: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: false,
    message: "The model server rejected the API key (check OPENAI_API_KEY).",
  },
  // A 429 to Brook's account, not to the caller's pace: no retry refills a quota.
  upstream_quota: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: false,
    message: "The model server's quota for this API key is used up (check the account's plan and billing).",
  },
  upstream_bad_request: {
    status: 400,
    trpc: "BAD_REQUEST",
    retryable: false,
    message: "The model server rejected the request.",
  },
  // An MCP server's authorization server refused a connect flow or a code, or could not be reached.
  mcp_auth_failed: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: false,
    message: "The MCP server's authorization server did not grant access.",
  },
  upstream_error: { status: 502, trpc: "BAD_GATEWAY", retryable: true, message: "The model server failed." },
  upstream_unreachable: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: true,
    message: "The model server cannot be reached (check OPENAI_BASE_URL).",
  },
  // Every deployment and fallback of the model failed before its first token (MODELS); its message names each.
  upstream_unavailable: {
    status: 503,
    trpc: "SERVICE_UNAVAILABLE",
    retryable: true,
    message: "No model server could answer; retry shortly.",
  },
  upstream_incomplete: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: true,
    message: "The model server ended the answer before it was finished.",
  },
  // An answer Brook cannot act on (a tool call without a name, a redirect elsewhere): asking again rarely helps.
  upstream_invalid_answer: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: false,
    message: "The model server sent an answer Brook cannot use.",
  },
  // A typed answer (`output`) that is not JSON or does not match its schema: the same request
  // would be answered by the same model the same way, mostly.
  invalid_output: {
    status: 502,
    trpc: "BAD_GATEWAY",
    retryable: false,
    message: "The model's answer does not match the requested output schema.",
  },
  // GATEWAY_TIMEOUT, not TIMEOUT (tRPC's 408): the same status on every surface. tRPC's
  // subscription link reconnects on it, but a run's timeout reaches subscribers as an `error`
  // event, never as a thrown error, so no model call runs twice.
  timeout: { status: 504, trpc: "GATEWAY_TIMEOUT", retryable: true, message: "The run took too long." },
  cancelled: { status: 499, trpc: "CLIENT_CLOSED_REQUEST", retryable: false, message: "The run was cancelled." },
  // Asking again would grow the same answer past the same bound.
  run_too_large: {
    status: 413,
    trpc: "PAYLOAD_TOO_LARGE",
    retryable: false,
    message: "The answer outgrew what Brook keeps of one run (RUN_MAX_BYTES).",
  },
  shutdown: {
    status: 503,
    trpc: "SERVICE_UNAVAILABLE",
    retryable: true,
    message: "Brook is shutting down; retry shortly.",
    headers: { "retry-after": "5" },
  },
  interrupted: {
    status: 503,
    trpc: "SERVICE_UNAVAILABLE",
    retryable: true,
    message: "The Brook instance producing this answer stopped before it finished; retry.",
  },
  unavailable: {
    status: 503,
    trpc: "SERVICE_UNAVAILABLE",
    retryable: true,
    message: "Brook cannot reach the state it shares with other instances; retry shortly.",
    headers: { "retry-after": "2" },
  },
  internal: { status: 500, trpc: "INTERNAL_SERVER_ERROR", retryable: false, message: "Internal error." },
} as const satisfies Record<string, ErrorSpec>;

interface ErrorSpec {
  status: number;
  trpc: string;
  retryable: boolean;
  message: string;
  /** HTTP headers sent with the refusal (`Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
}

export type ErrorCode = keyof typeof errorCatalogue;
export const ErrorCode = z.enum(Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]]);
export type TrpcErrorCode = (typeof errorCatalogue)[ErrorCode]["trpc"];
