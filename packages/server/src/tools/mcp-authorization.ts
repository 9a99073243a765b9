import { randomBytes } from "node:crypto";
import type { McpAuthorization } from "@brook/shared";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/client";
import { auth, extractWWWAuthenticateParams, UnauthorizedError } from "@modelcontextprotocol/client";
import { BrookError } from "../errors/brook-error.js";
import type { McpAuthProvider, McpFetch } from "./mcp-connection.js";
import type { OAuthGrant, OAuthTokenStore } from "./oauth-token-store.js";

/**
 * OAuth for a remote MCP server whose access a person grants once (the authorization-code grant
 * with PKCE): Brook's client is pre-registered (`clientId`, and `clientSecret` for a confidential
 * client), or registers itself (a client ID metadata document at `clientMetadataUrl` when the
 * authorization server supports them, else dynamic client registration).
 */
export interface McpAuthorizationCodeSpec {
  grant: "authorization_code";
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** An https URL serving Brook's client metadata (a client ID metadata document). */
  clientMetadataUrl?: string | undefined;
  /** The scope asked for; absent: what the server's `WWW-Authenticate` or its metadata names. */
  scope?: string | undefined;
}

/** The path browsers come back to after the authorization server's page. */
export const callbackPath = "/mcp/oauth/callback";
/** How long a connect link stays valid. */
export const connectTtlMs = 10 * 60_000;

/**
 * The SDK's `OAuthClientProvider` over a token store, for one server. The background connection
 * uses one to send the access token and refresh it (the SDK refreshes on a 401 with the refresh
 * token); a connect flow uses one of its own, which starts a new grant and keeps its PKCE verifier.
 */
export class StoredGrantProvider implements McpAuthProvider {
  /** The authorization page the last attempt wanted a person to open. */
  authorizationUrl: URL | undefined;
  #verifier: string | undefined;
  /** The tokens last handed out: only those are forgotten when the server rejects them. */
  #lastTokens: OAuthTokens | undefined;
  /** The scope a 403 `insufficient_scope` asked for, until a grant covers it. */
  stepUpScope: string | undefined;

  constructor(
    private readonly server: string,
    private readonly spec: McpAuthorizationCodeSpec,
    private readonly store: OAuthTokenStore,
    private readonly clientName: string,
    private readonly redirectUri: string,
    private readonly flow: { state: string; codeVerifier?: string } | undefined = undefined,
  ) {
    this.#verifier = flow?.codeVerifier;
  }

  get redirectUrl(): string {
    return this.redirectUri;
  }

  get clientMetadataUrl(): string | undefined {
    return this.spec.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: this.spec.clientSecret === undefined ? "none" : "client_secret_basic",
      ...(this.spec.scope === undefined ? {} : { scope: this.spec.scope }),
    };
  }

  state(): string {
    // The background connection never sends anyone to the authorization page: its state is unused.
    return this.flow?.state ?? randomBytes(32).toString("base64url");
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    const { clientId, clientSecret } = this.spec;
    if (clientId !== undefined) {
      return { client_id: clientId, ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) };
    }
    const registered = await this.store.client(this.server);
    // A connect flow registers again for a new redirect URI; the background connection refreshes
    // with the client that the stored grant was made for.
    return this.flow === undefined || registered?.redirectUri === this.redirectUri
      ? registered?.information
      : undefined;
  }

  async saveClientInformation(information: OAuthClientInformationMixed): Promise<void> {
    // A pre-registered client is configuration, not state.
    if (this.spec.clientId !== undefined) return;
    await this.store.saveClient(this.server, { information, redirectUri: this.redirectUri });
  }

  async tokens(): Promise<OAuthTokens | undefined> {
    // A connect flow asks for a new grant: it neither sends nor refreshes the old one.
    if (this.flow !== undefined) return undefined;
    const tokens = (await this.store.grant(this.server))?.tokens;
    this.#lastTokens = tokens;
    if (tokens === undefined || this.stepUpScope === undefined) return tokens;
    if (covers(tokens.scope, this.stepUpScope)) {
      this.stepUpScope = undefined;
      return tokens;
    }
    // A step-up needs a person: a refresh would only renew the narrower grant.
    const { refresh_token: _refresh, ...withoutRefresh } = tokens;
    return withoutRefresh;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    this.#lastTokens = tokens;
    // A refresh keeps the redirect URI of the grant it renews.
    const redirectUri =
      this.flow === undefined
        ? ((await this.store.grant(this.server))?.redirectUri ?? this.redirectUri)
        : this.redirectUri;
    await this.store.saveGrant(this.server, { tokens, receivedAt: Date.now(), redirectUri });
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    this.authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error("No authorization request is in progress.");
    return this.#verifier;
  }

  async invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): Promise<void> {
    if (scope === "all" || scope === "tokens") {
      // Another instance may have refreshed meanwhile: only the grant this one used is dropped.
      const current = await this.store.grant(this.server);
      if (current !== undefined && current.tokens.access_token === this.#lastTokens?.access_token) {
        await this.store.deleteGrant(this.server);
      }
    }
    if ((scope === "all" || scope === "client") && this.spec.clientId === undefined) {
      await this.store.deleteClient(this.server);
    }
  }

  /** Nothing can connect until a person has: no grant is stored. */
  async awaitsPerson(): Promise<boolean> {
    return (await this.store.grant(this.server)) === undefined;
  }
}

/** A server whose access a person grants, as the tool registry knows it. */
export interface AuthorizedServer {
  name: string;
  url: string;
  headers: Record<string, string>;
  spec: McpAuthorizationCodeSpec;
}

export interface McpAuthorizationsOptions {
  store: OAuthTokenStore;
  clientName: string;
  /** Where browsers reach Brook (PUBLIC_URL); absent: the origin the connect request came to. */
  publicUrl?: string | undefined;
  fetch?: McpFetch | undefined;
  /** A server was connected: its connection tries again now. */
  onConnected(server: string): void;
}

/**
 * The authorization-code servers' grants: the provider each background connection uses, the
 * connect flow a person starts (`begin`: the authorization page, bound to a one-time `state` and a
 * PKCE verifier kept in the store) and finishes in the browser (`finish`: the code exchanged for
 * tokens, stored), and what clients may know of each grant (never the tokens).
 */
export class McpAuthorizations {
  readonly #servers = new Map<string, AuthorizedServer>();
  readonly #providers = new Map<string, StoredGrantProvider>();
  /** What the last look at the store found, per server, for the synchronous status. */
  readonly #known = new Map<string, OAuthGrant | undefined>();

  constructor(
    servers: readonly AuthorizedServer[],
    private readonly options: McpAuthorizationsOptions,
  ) {
    for (const server of servers) this.#servers.set(server.name, server);
  }

  /** The provider of a server's background connection. */
  provider(name: string): StoredGrantProvider {
    const server = this.#server(name);
    let provider = this.#providers.get(name);
    if (provider === undefined) {
      const store = this.#watching(name);
      provider = new StoredGrantProvider(
        name,
        server.spec,
        store,
        this.options.clientName,
        this.#redirectUri(undefined),
      );
      this.#providers.set(name, provider);
    }
    return provider;
  }

  has(name: string): boolean {
    return this.#servers.has(name);
  }

  /** What a client may know of a server's grant. */
  describe(name: string): McpAuthorization {
    const grant = this.#known.get(name);
    const stepUp = this.#providers.get(name)?.stepUpScope ?? null;
    if (grant === undefined) return { connected: false, expires_at: null, scope: null, step_up_scope: stepUp };
    const expiresIn = grant.tokens.expires_in;
    return {
      connected: true,
      expires_at: expiresIn === undefined ? null : new Date(grant.receivedAt + expiresIn * 1000).toISOString(),
      scope: grant.tokens.scope ?? null,
      step_up_scope: stepUp,
    };
  }

  /**
   * Starts connecting a server: its authorization page, with a one-time `state` that binds the
   * callback to this request and a PKCE challenge whose verifier waits in the store.
   */
  async begin(name: string, requestOrigin: string): Promise<{ url: string; expiresIn: number }> {
    const server = this.#servers.get(name);
    if (server === undefined) {
      throw new BrookError("not_found", `No MCP server named "${name}" is connected with OAuth authorization code.`);
    }
    const state = randomBytes(32).toString("base64url");
    const redirectUri = this.#redirectUri(requestOrigin);
    const provider = new StoredGrantProvider(
      name,
      server.spec,
      this.options.store,
      this.options.clientName,
      redirectUri,
      {
        state,
      },
    );
    const challenge = await this.#challenge(server);
    // A step-up's scope first, then the configured one, then what the server's 401 asks for.
    const scope = this.#providers.get(name)?.stepUpScope ?? server.spec.scope ?? challenge.scope;
    await this.#authorize(server, provider, { ...challenge, ...(scope === undefined ? {} : { scope }) });
    const url = provider.authorizationUrl;
    if (url === undefined) throw new BrookError("mcp_auth_failed", "The authorization server gave no page to open.");
    await this.options.store.saveFlow(
      state,
      { server: name, codeVerifier: provider.codeVerifier(), redirectUri },
      connectTtlMs,
    );
    return { url: url.toString(), expiresIn: connectTtlMs / 1000 };
  }

  /** The browser came back with a code: it becomes the server's stored grant. Returns the server's name. */
  async finish(state: string, code: string): Promise<string> {
    const flow = await this.options.store.takeFlow(state);
    const server = flow === undefined ? undefined : this.#servers.get(flow.server);
    if (flow === undefined || server === undefined) {
      throw new BrookError("bad_request", "This connect link is unknown, used or expired: start connecting again.");
    }
    const provider = new StoredGrantProvider(
      server.name,
      server.spec,
      this.#watching(server.name),
      this.options.clientName,
      flow.redirectUri,
      { state, codeVerifier: flow.codeVerifier },
    );
    await this.#authorize(server, provider, { authorizationCode: code });
    this.options.onConnected(server.name);
    return server.name;
  }

  /**
   * The `fetch` of a server's background connection: a 403 `insufficient_scope` (step-up) is
   * noted, so that the grant is not refreshed in vain and the person is asked for the wider scope.
   */
  watchingFetch(name: string, fetch: McpFetch = globalThis.fetch): McpFetch {
    return async (url, init) => {
      const response = await fetch(url, init);
      if (response.status === 403) {
        const { error, scope } = extractWWWAuthenticateParams(response);
        if (error === "insufficient_scope" && scope !== undefined) this.provider(name).stepUpScope = scope;
      }
      return response;
    };
  }

  /** Forgets a flow whose authorization was refused; answers its server's name. */
  async abandon(state: string): Promise<string | undefined> {
    return (await this.options.store.takeFlow(state))?.server;
  }

  /** Refreshes what `describe` knows of a server's grant. */
  async look(name: string): Promise<void> {
    this.#known.set(name, await this.options.store.grant(name));
  }

  #server(name: string): AuthorizedServer {
    const server = this.#servers.get(name);
    if (server === undefined) throw new Error(`No authorization-code server named "${name}".`);
    return server;
  }

  /** The store, with what this instance reads and writes of a server's grant noted for `describe`. */
  #watching(name: string): OAuthTokenStore {
    const { store } = this.options;
    const known = this.#known;
    return {
      ...bound(store),
      grant: async (server) => {
        const grant = await store.grant(server);
        known.set(name, grant);
        return grant;
      },
      saveGrant: async (server, grant) => {
        await store.saveGrant(server, grant);
        known.set(name, grant);
      },
      deleteGrant: async (server) => {
        await store.deleteGrant(server);
        known.set(name, undefined);
      },
    };
  }

  #redirectUri(requestOrigin: string | undefined): string {
    const base = this.options.publicUrl ?? requestOrigin ?? "http://localhost";
    return new URL(callbackPath, base).toString();
  }

  /**
   * What the server says when asked without a token (its `WWW-Authenticate`): where its
   * protected-resource metadata is and which scope it wants.
   */
  async #challenge(server: AuthorizedServer): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
    const fetch = this.options.fetch ?? globalThis.fetch;
    try {
      const response = await fetch(server.url, {
        method: "POST",
        headers: {
          ...server.headers,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "ping" }),
        signal: AbortSignal.timeout(15_000),
      });
      await response.body?.cancel();
      if (response.status !== 401 && response.status !== 403) return {};
      const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
      return {
        ...(resourceMetadataUrl === undefined ? {} : { resourceMetadataUrl }),
        ...(scope === undefined ? {} : { scope }),
      };
    } catch {
      // Discovery falls back to the well-known locations.
      return {};
    }
  }

  async #authorize(
    server: AuthorizedServer,
    provider: StoredGrantProvider,
    options: { authorizationCode?: string; scope?: string; resourceMetadataUrl?: URL },
  ): Promise<void> {
    try {
      await auth(provider, {
        serverUrl: server.url,
        ...options,
        ...(this.options.fetch === undefined ? {} : { fetchFn: this.options.fetch }),
      });
    } catch (error) {
      if (error instanceof BrookError) throw error;
      const reason = error instanceof UnauthorizedError ? "it refused Brook" : describe(error);
      throw new BrookError(
        "mcp_auth_failed",
        `The authorization server of the MCP server "${server.name}" did not grant access (${reason}).`,
        { cause: error },
      );
    }
  }
}

/** The store's methods bound to it, so that some can be replaced in a copy. */
function bound(store: OAuthTokenStore): OAuthTokenStore {
  return {
    grant: (server) => store.grant(server),
    saveGrant: (server, grant) => store.saveGrant(server, grant),
    deleteGrant: (server) => store.deleteGrant(server),
    client: (server) => store.client(server),
    saveClient: (server, client) => store.saveClient(server, client),
    deleteClient: (server) => store.deleteClient(server),
    saveFlow: (state, flow, ttlMs) => store.saveFlow(state, flow, ttlMs),
    takeFlow: (state) => store.takeFlow(state),
  };
}

/** Every scope of `wanted` is in `granted`. */
function covers(granted: string | undefined, wanted: string): boolean {
  const have = new Set((granted ?? "").split(" "));
  return wanted.split(" ").every((scope) => scope === "" || have.has(scope));
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
