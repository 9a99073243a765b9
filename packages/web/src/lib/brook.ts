import { createBrookClient } from "@brook/client";
import { readStored, writeStored } from "./local-store.ts";

const API_KEY = "brook.api-key";

let apiKey = readStored<string | undefined>(API_KEY, undefined);

export function storedApiKey(): string | undefined {
  return apiKey;
}

export function saveApiKey(key: string | undefined): void {
  apiKey = key === undefined || key.trim() === "" ? undefined : key.trim();
  writeStored(API_KEY, apiKey);
}

/** The one client of the app: same origin as the page, the stored key asked for on every call. */
export const brook = createBrookClient({ url: window.location.origin, apiKey: () => apiKey });

/** The `data` Brook puts on every tRPC error (read defensively: errors come from anywhere). */
interface ErrorData {
  code?: unknown;
  httpStatus?: unknown;
  brook_code?: unknown;
  retryable?: unknown;
}

function errorData(error: unknown): ErrorData | undefined {
  if (typeof error !== "object" || error === null || !("data" in error)) return undefined;
  const data = (error as { data: unknown }).data;
  return typeof data === "object" && data !== null ? (data as ErrorData) : undefined;
}

/** True when Brook refused the call for want of a valid API key. */
export function isUnauthorized(error: unknown): boolean {
  const data = errorData(error);
  return data?.brook_code === "unauthorized" || data?.code === "UNAUTHORIZED" || data?.httpStatus === 401;
}

/** A failed call as the user should read it. */
export function describeError(error: unknown): { message: string; code: string; retryable: boolean } {
  const data = errorData(error);
  const message = error instanceof Error && error.message !== "" ? error.message : "The request failed.";
  if (data === undefined) {
    // No tRPC data: the network or the server went away.
    const offline = /fetch|network|load failed/i.test(message);
    return {
      message: offline ? "Brook cannot be reached. Check that it is running." : message,
      code: "network",
      retryable: true,
    };
  }
  return {
    message,
    code: typeof data.brook_code === "string" ? data.brook_code : String(data.code ?? "error"),
    retryable: data.retryable !== false,
  };
}
