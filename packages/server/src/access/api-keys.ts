import { createHash, timingSafeEqual } from "node:crypto";

/**
 * The API keys of `BROOK_API_KEYS`, and the admin keys of `BROOK_ADMIN_KEYS` (API keys too, that
 * may also reset the statistics). Keys are compared as SHA-256 digests with `timingSafeEqual`,
 * against every known key, so the time taken reveals neither a key's content nor its length.
 */
export class ApiKeys {
  readonly #digests: Buffer[];
  readonly #adminDigests: Buffer[];

  constructor(keys: readonly string[], adminKeys: readonly string[] = []) {
    this.#adminDigests = adminKeys.map(digest);
    this.#digests = [...keys.map(digest), ...this.#adminDigests];
  }

  /** True when callers must present a key. */
  get required(): boolean {
    return this.#digests.length > 0;
  }

  /** True when `authorization` (an `Authorization` value) is `Bearer <known key>`, or no key is required. */
  accepts(authorization: unknown): boolean {
    if (!this.required) return true;
    return matches(bearerKey(authorization), this.#digests);
  }

  /** True when `authorization` carries an admin key, or no key is required (an open Brook has no admin). */
  isAdmin(authorization: unknown): boolean {
    if (!this.required) return true;
    return matches(bearerKey(authorization), this.#adminDigests);
  }

  /**
   * Whose runs a caller may see: the identity of its key when keys are required and it holds a
   * known one; undefined when keys are off (runs are open to all) or the key is not known.
   */
  ownerOf(authorization: unknown): string | undefined {
    if (!this.required || !this.accepts(authorization)) return undefined;
    const key = bearerKey(authorization);
    return key === undefined ? undefined : keyIdentity(key);
  }
}

/** The key of a `Bearer <key>` value. */
export function bearerKey(authorization: unknown): string | undefined {
  if (typeof authorization !== "string") return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1];
}

/** A short, stable name of a key for rate limiting, run ownership and logs: never the key itself. */
export function keyIdentity(key: string): string {
  return digest(key).subarray(0, 12).toString("base64url");
}

function matches(key: string | undefined, known: readonly Buffer[]): boolean {
  if (key === undefined) return false;
  const candidate = digest(key);
  let match = false;
  // No early exit: every key is compared.
  for (const entry of known) match = timingSafeEqual(candidate, entry) || match;
  return match;
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
