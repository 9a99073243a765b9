import { type ErrorCode, errorCatalogue, type TrpcErrorCode, type Usage } from "@brook/shared";

/**
 * A failure with a stable code from the catalogue. `message` is safe to show to callers:
 * internal details go to `cause` (logged, never sent).
 */
export class BrookError extends Error {
  override name = "BrookError";
  readonly code: ErrorCode;
  /** What a failed run had used, for callers that are billed for it. */
  readonly usage: Usage | undefined;
  /** Overrides the catalogue's `Retry-After` (seconds), e.g. when a rate limit knows its reset. */
  readonly retryAfterS: number | undefined;
  /** The answer's text, for failures where the caller may still use it (`invalid_output`). */
  readonly fullContent: string | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; usage?: Usage; retryAfterS?: number; fullContent?: string },
  ) {
    super(message ?? errorCatalogue[code].message, options);
    this.code = code;
    this.usage = options?.usage;
    this.retryAfterS = options?.retryAfterS;
    this.fullContent = options?.fullContent;
  }

  /** HTTP headers that go with this refusal (`Retry-After`, `WWW-Authenticate`), from the catalogue. */
  get headers(): Record<string, string> {
    const spec = errorCatalogue[this.code];
    const headers: Record<string, string> = { ...("headers" in spec ? spec.headers : {}) };
    if (this.retryAfterS !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(this.retryAfterS)));
    return headers;
  }

  get status(): number {
    return errorCatalogue[this.code].status;
  }

  get retryable(): boolean {
    return errorCatalogue[this.code].retryable;
  }

  get trpcCode(): TrpcErrorCode {
    return errorCatalogue[this.code].trpc;
  }
}

/** The abort reason of a run's signal, as a BrookError (a plain `abort()` means cancelled). */
export function abortReason(signal: AbortSignal): BrookError {
  return signal.reason instanceof BrookError ? signal.reason : new BrookError("cancelled");
}
