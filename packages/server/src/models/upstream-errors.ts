import type { ErrorCode } from "@brook/shared";
import OpenAI from "openai";
import { abortReason, BrookError } from "../errors/brook-error.js";

const detailLimit = 300;

/** Maps whatever the openai SDK threw into the error catalogue, with human text. */
export function toBrookError(error: unknown, signal: AbortSignal): BrookError {
  // The SDK's abort error is not an AbortError: the signal says why we stopped.
  if (signal.aborted) return abortReason(signal);
  if (error instanceof BrookError) return error;
  if (error instanceof OpenAI.APIUserAbortError) return new BrookError("cancelled");
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new BrookError("timeout", "The model server did not answer in time.", { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new BrookError("upstream_unreachable", undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIError) return fromApiError(error);
  if (error instanceof SyntaxError) {
    return new BrookError("upstream_error", "The model server sent a malformed stream chunk.", { cause: error });
  }
  // Fetch body errors (a cut TCP stream) surface as TypeError("terminated") and the like.
  return new BrookError("upstream_incomplete", undefined, { cause: error });
}

/** What went wrong, as Brook tells it: each kind has its code and its sentence. */
type Kind =
  | "auth"
  | "quota"
  | "rate"
  | "timeout"
  | "not_found"
  | "model_not_found"
  | "bad_request"
  | "redirect"
  | "server";

const codes: Record<Kind, ErrorCode> = {
  auth: "upstream_auth",
  quota: "upstream_quota",
  rate: "upstream_rate_limited",
  timeout: "timeout",
  not_found: "upstream_bad_request",
  model_not_found: "upstream_bad_request",
  bad_request: "upstream_bad_request",
  redirect: "upstream_invalid_answer",
  server: "upstream_error",
};

/** `where` is "HTTP 401" or "in its stream", followed by the server's own words. */
const sentences: Record<Kind, (where: string) => string> = {
  auth: (where) => `The model server rejected the API key (${where}); check OPENAI_API_KEY.`,
  quota: (where) =>
    `The model server's quota for this API key is used up (${where}); check the account's plan and billing.`,
  rate: (where) => `The model server is rate limiting requests (${where}).`,
  timeout: (where) => `The model server timed out (${where}).`,
  not_found: (where) =>
    `The model server has nothing at that address (${where}); check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1.`,
  model_not_found: (where) =>
    `The model server does not have that model (${where}); check OPENAI_MODEL or the request's model.`,
  bad_request: (where) => `The model server rejected the request (${where}).`,
  redirect: (where) =>
    `The model server redirected the request to another address (${where}); Brook follows redirects only within OPENAI_BASE_URL's origin: set OPENAI_BASE_URL to the new address.`,
  server: (where) => `The model server failed (${where}).`,
};

/**
 * An HTTP error answer, or an error object inside the stream (`data: {"error": …}`, no status).
 * An answer's status decides (an exhausted quota aside, which answers 429 like a rate limit); in a
 * stream the error's `code` and `type` decide, then any status it carries, else it is a failure.
 */
function fromApiError(error: InstanceType<typeof OpenAI.APIError>): BrookError {
  const code = typeof error.code === "string" ? error.code : undefined;
  const type = typeof error.type === "string" ? error.type : undefined;
  const detail = upstreamDetail(error);
  let kind: Kind;
  let where: string;
  if (error.status !== undefined) {
    kind = isQuota(code, type) ? "quota" : kindOfStatus(error.status, detail);
    const location = kind === "redirect" ? error.headers?.get("location") : null;
    where = `HTTP ${error.status}${location ? ` to ${location.slice(0, detailLimit)}` : ""}${detail}`;
  } else {
    const carried = carriedStatus(error.error);
    kind = kindOfCode(code, type) ?? (carried === undefined ? "server" : kindOfStatus(carried, detail));
    // The stream came from that address, so a "not found" in it is about something else.
    if (kind === "not_found") kind = "bad_request";
    where = `in its stream${carried === undefined ? "" : `, status ${carried}`}${detail}`;
  }
  return new BrookError(codes[kind], sentences[kind](where), { cause: error });
}

function isQuota(code: string | undefined, type: string | undefined): boolean {
  return code === "insufficient_quota" || type === "insufficient_quota";
}

function kindOfStatus(status: number, detail: string): Kind {
  if (status >= 300 && status < 400) return "redirect";
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate";
  if (status === 408) return "timeout";
  // "No such model" is a 404 too (OpenAI, Ollama): only a bare 404 points at the base URL.
  if (status === 404) return /\bmodel\b/i.test(detail) ? "model_not_found" : "not_found";
  if (status >= 400 && status < 500) return "bad_request";
  return "server";
}

/** OpenAI's codes and types, and those of servers that speak its dialect (vLLM, LiteLLM, OpenRouter). */
function kindOfCode(code: string | undefined, type: string | undefined): Kind | undefined {
  if (isQuota(code, type)) return "quota";
  const byCode = code === undefined ? undefined : kindsByCode[code];
  if (byCode !== undefined) return byCode;
  return type === undefined ? undefined : kindsByType[type];
}

const kindsByCode: Record<string, Kind> = {
  invalid_api_key: "auth",
  invalid_authentication: "auth",
  authentication_error: "auth",
  permission_denied: "auth",
  unauthorized: "auth",
  rate_limit_exceeded: "rate",
  context_length_exceeded: "bad_request",
  invalid_request_error: "bad_request",
  model_not_found: "model_not_found",
  server_error: "server",
};

const kindsByType: Record<string, Kind> = {
  authentication_error: "auth",
  permission_error: "auth",
  rate_limit_error: "rate",
  // OpenAI names the limit that was hit.
  requests: "rate",
  tokens: "rate",
  invalid_request_error: "bad_request",
  server_error: "server",
  api_error: "server",
};

/** A status inside a stream's error object: `status`, or a numeric `code` (vLLM, OpenRouter, LiteLLM). */
function carriedStatus(body: unknown): number | undefined {
  const fields = (body ?? {}) as { status?: unknown; code?: unknown };
  for (const value of [fields.status, fields.code]) {
    const status = typeof value === "string" && /^\d{3}$/.test(value) ? Number(value) : value;
    if (typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599) return status;
  }
  return undefined;
}

/** `: <the server's message>`, clipped, without its closing full stop (Brook's sentence has one). */
function upstreamDetail(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === "string" ? body.message.trim().replace(/[\s.。]+$/u, "") : "";
  if (message === "") return "";
  const clipped = message.length > detailLimit ? `${message.slice(0, detailLimit)}…` : message;
  return `: ${clipped}`;
}
