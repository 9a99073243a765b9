import { createHash, timingSafeEqual } from "node:crypto";

/**
 * The API keys of `BROOK_API_KEYS`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every known key, so the time taken reveals neither a key's
 * content nor its length.
 */
export class ApiKeys {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** True when callers must present a key. */
  get required(): boolean {
    return this.#digests.length > 0;
  }

  /** True when `authorization` (an `Authorization` value) is `Bearer <known key>`, or no key is required. */
  accepts(authorization: unknown): boolean {
    if (!this.required) return true;
    const key = bearerKey(authorization);
    if (key === undefined) return false;
    const candidate = digest(key);
    let match = false;
    // No early exit: every key is compared.
    for (const known of this.#digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  }
}

/** The key of a `Bearer <key>` value. */
export function bearerKey(authorization: unknown): string | undefined {
  if (typeof authorization !== "string") return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1];
}

/** A short, stable name of a key for rate limiting and logs: never the key itself. */
export function keyIdentity(key: string): string {
  return digest(key).subarray(0, 12).toString("base64url");
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
