import { ClientCredentialsProvider, PrivateKeyJwtProvider } from "@modelcontextprotocol/client";
import type { McpAuthProvider } from "./mcp-connection.js";

/**
 * OAuth for a remote MCP server, machine to machine (the client credentials grant): a client
 * registered with the server's authorization server beforehand, proving itself with a secret
 * (`client_secret_basic`) or a signed JWT (`private_key_jwt`). The authorization server and its
 * token endpoint are discovered from the server's `WWW-Authenticate` header and its protected
 * resource metadata.
 */
export type McpOAuthSpec =
  | {
      grant: "client_credentials";
      clientId: string;
      clientSecret: string;
      scope: string | undefined;
      /** The authorization server's issuer: credentials go only to it (absent: the one the server names). */
      issuer?: string | undefined;
    }
  | {
      grant: "client_credentials";
      clientId: string;
      /** A PEM private key (PKCS #8) or a JWK. */
      privateKey: string | Record<string, unknown>;
      algorithm: string;
      scope: string | undefined;
      issuer?: string | undefined;
    };

/**
 * The SDK's provider for the spec. Tokens stay in this process (each instance fetches its own
 * with its credentials) and are never logged: the provider hands them only to the transport.
 */
export function mcpAuthProvider(spec: McpOAuthSpec, clientName: string): McpAuthProvider {
  const scope = {
    ...(spec.scope === undefined ? {} : { scope: spec.scope }),
    ...(spec.issuer === undefined ? {} : { expectedIssuer: spec.issuer }),
  };
  if ("privateKey" in spec) {
    return new PrivateKeyJwtProvider({
      clientId: spec.clientId,
      privateKey: spec.privateKey,
      algorithm: spec.algorithm,
      clientName,
      ...scope,
    });
  }
  return new ClientCredentialsProvider({
    clientId: spec.clientId,
    clientSecret: spec.clientSecret,
    clientName,
    ...scope,
  });
}
