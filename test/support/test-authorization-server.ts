import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A client the authorization server knows (pre-registered, or registered dynamically). */
interface Client {
  clientId: string;
  clientSecret?: string | undefined;
  redirectUris: string[];
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  resource: string | undefined;
}

interface AccessToken {
  scope: string;
  expired: boolean;
}

export interface TestAuthorizationServer {
  /** Its issuer, e.g. http://127.0.0.1:PORT */
  issuer: string;
  /** The scopes an access token carries, or undefined for a token it did not issue or that expired. */
  verify(authorization: string | undefined): string[] | undefined;
  /** Every access token issued so far, in order. */
  issued: string[];
  /** Refresh grants it answered. */
  refreshes: number;
  /** Clients registered through dynamic client registration. */
  registered: Client[];
  /** Authorization requests it approved (their query), in order. */
  authorizations: URLSearchParams[];
  /** Every access token issued so far expires now (a later request with one is refused). */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

export interface TestAuthorizationServerOptions {
  /** Pre-registered clients; dynamic registration adds public ones. */
  clients?: { clientId: string; clientSecret?: string; redirectUris?: string[] }[];
  /** Lifetime of access tokens, in seconds. */
  expiresIn?: number;
}

/**
 * A small OAuth 2.1 authorization server for tests: metadata, dynamic client registration, an
 * authorization endpoint that approves at once (as a person would, clicking Allow), PKCE (S256)
 * checked at the token endpoint, refresh tokens that rotate, `client_secret_basic` for
 * confidential clients and `none` for public ones.
 */
export async function startTestAuthorizationServer(
  options: TestAuthorizationServerOptions = {},
): Promise<TestAuthorizationServer> {
  const clients = new Map<string, Client>(
    (options.clients ?? []).map((client) => [
      client.clientId,
      { clientId: client.clientId, clientSecret: client.clientSecret, redirectUris: client.redirectUris ?? [] },
    ]),
  );
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, { clientId: string; scope: string }>();
  const state = {
    issued: [] as string[],
    refreshes: 0,
    registered: [] as Client[],
    authorizations: [] as URLSearchParams[],
  };
  let issuer = "";

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };

  const issueTokens = (res: ServerResponse, clientId: string, scope: string) => {
    const access = `at-${randomUUID()}`;
    const refresh = `rt-${randomUUID()}`;
    accessTokens.set(access, { scope, expired: false });
    refreshTokens.set(refresh, { clientId, scope });
    state.issued.push(access);
    json(res, 200, {
      access_token: access,
      token_type: "Bearer",
      expires_in: options.expiresIn ?? 3600,
      refresh_token: refresh,
      scope,
    });
  };

  /** The client a token request authenticates as: Basic for confidential clients, client_id for public ones. */
  const authenticate = (req: IncomingMessage, form: URLSearchParams): Client | undefined => {
    const basic = req.headers.authorization;
    if (basic?.startsWith("Basic ")) {
      const [id, secret] = Buffer.from(basic.slice(6), "base64").toString("utf8").split(":");
      const client = clients.get(decodeURIComponent(id ?? ""));
      return client?.clientSecret !== undefined && client.clientSecret === decodeURIComponent(secret ?? "")
        ? client
        : undefined;
    }
    const client = clients.get(form.get("client_id") ?? "");
    return client?.clientSecret === undefined ? client : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    if (req.method === "GET" && url.pathname === "/.well-known/oauth-authorization-server") {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        registration_endpoint: `${issuer}/register`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "none"],
      });
    }
    if (req.method === "POST" && url.pathname === "/register") {
      const metadata = JSON.parse(await readBody(req)) as { redirect_uris?: string[] };
      const client: Client = { clientId: `dyn-${randomUUID()}`, redirectUris: metadata.redirect_uris ?? [] };
      clients.set(client.clientId, client);
      state.registered.push(client);
      return json(res, 201, { ...metadata, client_id: client.clientId, token_endpoint_auth_method: "none" });
    }
    if (req.method === "GET" && url.pathname === "/authorize") {
      const query = url.searchParams;
      const client = clients.get(query.get("client_id") ?? "");
      const redirectUri = query.get("redirect_uri") ?? "";
      // A redirect URI it does not know for the client is never redirected to.
      if (client === undefined || (client.redirectUris.length > 0 && !client.redirectUris.includes(redirectUri))) {
        return json(res, 400, { error: "invalid_request", error_description: "unknown client or redirect_uri" });
      }
      const back = new URL(redirectUri);
      back.searchParams.set("state", query.get("state") ?? "");
      if (query.get("code_challenge_method") !== "S256" || query.get("code_challenge") === null) {
        back.searchParams.set("error", "invalid_request");
      } else {
        state.authorizations.push(query);
        const code = `code-${randomUUID()}`;
        codes.set(code, {
          clientId: client.clientId,
          redirectUri,
          challenge: query.get("code_challenge") ?? "",
          scope: query.get("scope") ?? "",
          resource: query.get("resource") ?? undefined,
        });
        back.searchParams.set("code", code);
      }
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (req.method === "POST" && url.pathname === "/token") {
      const form = new URLSearchParams(await readBody(req));
      const client = authenticate(req, form);
      if (client === undefined) return json(res, 401, { error: "invalid_client" });
      if (form.get("grant_type") === "authorization_code") {
        const code = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        const verifier = form.get("code_verifier") ?? "";
        const challenge = createHash("sha256").update(verifier).digest("base64url");
        if (
          code === undefined ||
          code.clientId !== client.clientId ||
          code.redirectUri !== form.get("redirect_uri") ||
          code.challenge !== challenge
        ) {
          return json(res, 400, { error: "invalid_grant" });
        }
        return issueTokens(res, client.clientId, code.scope);
      }
      if (form.get("grant_type") === "refresh_token") {
        const refresh = refreshTokens.get(form.get("refresh_token") ?? "");
        if (refresh === undefined || refresh.clientId !== client.clientId)
          return json(res, 400, { error: "invalid_grant" });
        // Refresh tokens rotate: the old one is spent.
        refreshTokens.delete(form.get("refresh_token") ?? "");
        state.refreshes += 1;
        return issueTokens(res, client.clientId, refresh.scope);
      }
      return json(res, 400, { error: "unsupported_grant_type" });
    }
    json(res, 404, { error: "not_found" });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) =>
      json(res, 500, { error: "server_error", error_description: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get issued() {
      return state.issued;
    },
    get refreshes() {
      return state.refreshes;
    },
    get registered() {
      return state.registered;
    },
    get authorizations() {
      return state.authorizations;
    },
    verify: (authorization) => {
      const token = authorization?.startsWith("Bearer ") ? accessTokens.get(authorization.slice(7)) : undefined;
      return token === undefined || token.expired ? undefined : token.scope.split(" ").filter((scope) => scope !== "");
    },
    expireAccessTokens: () => {
      for (const token of accessTokens.values()) token.expired = true;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
