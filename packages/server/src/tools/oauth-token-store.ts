import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/client";

/** The tokens a person's authorization gave Brook for one MCP server. */
export interface OAuthGrant {
  /** As the authorization server answered (with the SDK's `issuer` stamp). */
  tokens: OAuthTokens;
  /** When they were received (ms since the epoch): `expires_in` counts from here. */
  receivedAt: number;
  /** The redirect URI the grant was made for (a refresh needs the same client). */
  redirectUri: string;
}

/** A client Brook registered with an authorization server (dynamic registration, or its metadata document's URL). */
export interface OAuthRegisteredClient {
  information: OAuthClientInformationMixed;
  /** The redirect URI it was registered with: a different one needs a new registration. */
  redirectUri: string;
}

/** A connect flow waiting for the browser to come back to the callback with its `state`. */
export interface PendingAuthorization {
  server: string;
  /** The PKCE verifier of the authorization request. */
  codeVerifier: string;
  redirectUri: string;
}

/**
 * Where the OAuth grants of MCP servers live: in this process (`MemoryOAuthTokenStore`), or
 * shared by every instance (`redis/redis-oauth-token-store.ts`), so that a server connected
 * through one instance is used by all, and a connect flow started on one finishes on another.
 * Whatever is stored here is a secret: it is never logged and never sent to a client.
 */
export interface OAuthTokenStore {
  grant(server: string): Promise<OAuthGrant | undefined>;
  saveGrant(server: string, grant: OAuthGrant): Promise<void>;
  deleteGrant(server: string): Promise<void>;
  client(server: string): Promise<OAuthRegisteredClient | undefined>;
  saveClient(server: string, client: OAuthRegisteredClient): Promise<void>;
  deleteClient(server: string): Promise<void>;
  /** Keeps a flow for `ttlMs`, under its `state`. */
  saveFlow(state: string, flow: PendingAuthorization, ttlMs: number): Promise<void>;
  /** The flow of a `state`, once: a second take (a replayed callback) finds nothing. */
  takeFlow(state: string): Promise<PendingAuthorization | undefined>;
}

/** Connect flows one process keeps at most (older ones are dropped first). */
const maxFlows = 1_000;

/** Grants in this process: each instance connects its servers itself. */
export class MemoryOAuthTokenStore implements OAuthTokenStore {
  readonly #grants = new Map<string, OAuthGrant>();
  readonly #clients = new Map<string, OAuthRegisteredClient>();
  readonly #flows = new Map<string, { flow: PendingAuthorization; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async grant(server: string): Promise<OAuthGrant | undefined> {
    return this.#grants.get(server);
  }

  async saveGrant(server: string, grant: OAuthGrant): Promise<void> {
    this.#grants.set(server, grant);
  }

  async deleteGrant(server: string): Promise<void> {
    this.#grants.delete(server);
  }

  async client(server: string): Promise<OAuthRegisteredClient | undefined> {
    return this.#clients.get(server);
  }

  async saveClient(server: string, client: OAuthRegisteredClient): Promise<void> {
    this.#clients.set(server, client);
  }

  async deleteClient(server: string): Promise<void> {
    this.#clients.delete(server);
  }

  async saveFlow(state: string, flow: PendingAuthorization, ttlMs: number): Promise<void> {
    const now = this.now();
    for (const [key, entry] of this.#flows) {
      if (entry.expiresAt <= now || this.#flows.size >= maxFlows) this.#flows.delete(key);
      else break;
    }
    this.#flows.set(state, { flow, expiresAt: now + ttlMs });
  }

  async takeFlow(state: string): Promise<PendingAuthorization | undefined> {
    const entry = this.#flows.get(state);
    this.#flows.delete(state);
    return entry === undefined || entry.expiresAt <= this.now() ? undefined : entry.flow;
  }
}
