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
  if (error instanceof OpenAI.APIError) return fromStatus(error);
  if (error instanceof SyntaxError) {
    return new BrookError("upstream_error", "The model server sent a malformed stream chunk.", { cause: error });
  }
  // Fetch body errors (a cut TCP stream) surface as TypeError("terminated") and the like.
  return new BrookError("upstream_incomplete", undefined, { cause: error });
}

function fromStatus(error: InstanceType<typeof OpenAI.APIError>): BrookError {
  const status = error.status;
  const detail = upstreamDetail(error);
  const options = { cause: error };
  if (status === 401 || status === 403) {
    return new BrookError("upstream_auth", `The model server rejected the API key (HTTP ${status}${detail}).`, options);
  }
  if (status === 429) {
    return new BrookError("rate_limited", `The model server is rate limiting requests (HTTP 429${detail}).`, options);
  }
  if (status === 408) return new BrookError("timeout", `The model server timed out (HTTP 408${detail}).`, options);
  if (status !== undefined && status >= 400 && status < 500) {
    return new BrookError(
      "upstream_bad_request",
      `The model server rejected the request (HTTP ${status}${detail}).`,
      options,
    );
  }
  if (status === undefined) {
    // An error object inside the stream (`data: {"error": …}`).
    return new BrookError("upstream_error", `The model server reported an error${detail}.`, options);
  }
  return new BrookError("upstream_error", `The model server failed (HTTP ${status}${detail}).`, options);
}

function upstreamDetail(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === "string" ? body.message : undefined;
  if (message === undefined || message === "") return "";
  const clipped = message.length > detailLimit ? `${message.slice(0, detailLimit)}…` : message;
  return `: ${clipped}`;
}
