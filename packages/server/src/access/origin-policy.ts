import type { IncomingHttpHeaders } from "node:http";

/**
 * Which browser origins may call Brook: its own (the `Origin` names the host the request was
 * sent to, directly or through a proxy that sets `X-Forwarded-Host`), those in `CORS_ORIGINS`,
 * or any with `*`. Requests without an `Origin` (curl, servers, same-origin GETs) are not browsers'
 * cross-site calls and pass.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;
  readonly #any: boolean;

  constructor(origins: readonly string[]) {
    this.#allowed = new Set(origins);
    this.#any = this.#allowed.has("*");
  }

  /** True when a CORS response may name this origin (the allowlist; same-origin needs no CORS). */
  listed(origin: string): boolean {
    return this.#any || this.#allowed.has(origin);
  }

  allows(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (origin === undefined) return true;
    if (this.listed(origin)) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    const forwarded = firstValue(headers["x-forwarded-host"]);
    return host === headers.host || (forwarded !== undefined && host === forwarded);
  }
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim();
}
