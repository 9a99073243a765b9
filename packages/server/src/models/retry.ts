import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";

/** Longest wait Brook accepts between attempts; a server asking for more is not retried. */
const maxDelayMs = 20_000;

/**
 * How long to wait before attempt `attempt + 1`, or undefined when waiting is pointless:
 * the server's Retry-After when it sent one (within reason), else exponential backoff with jitter.
 */
export function retryDelayMs(error: unknown, attempt: number): number | undefined {
  const asked = error instanceof OpenAI.APIError ? retryAfterMs(error.headers) : undefined;
  if (asked !== undefined) return asked <= maxDelayMs ? asked : undefined;
  const backoff = Math.min(8_000, 500 * 2 ** attempt);
  return backoff * (0.75 + Math.random() * 0.5);
}

/** Waits, but gives up the moment `signal` aborts (the SDK's own retry sleep cannot be aborted). */
export function waitBeforeRetry(delayMs: number, signal: AbortSignal): Promise<void> {
  return sleep(delayMs, undefined, { signal });
}

export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const milliseconds = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get("retry-after");
  if (value == null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
