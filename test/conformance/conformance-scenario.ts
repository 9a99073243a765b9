/**
 * What Brook does in each of the MCP conformance suite's client scenarios. It drives Brook's own
 * MCP connection (`McpConnection`, the module the server uses for every configured server) and
 * Brook's OAuth providers; only what a person would do (approve the authorization page, submit an
 * elicitation form untouched) is played here.
 */
import { type McpAuthProvider, McpConnection, mcpAuthProvider } from "@brook/server";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { z } from "zod";

const Context = z.discriminatedUnion("name", [
  z.object({
    name: z.literal("auth/client-credentials-jwt"),
    client_id: z.string(),
    private_key_pem: z.string(),
    signing_algorithm: z.string().optional(),
  }),
  z.object({ name: z.literal("auth/client-credentials-basic"), client_id: z.string(), client_secret: z.string() }),
  z.object({ name: z.literal("auth/pre-registration"), client_id: z.string(), client_secret: z.string() }),
]);
type Context = z.infer<typeof Context>;

/** The tool each scenario expects a call to, with its documented arguments. */
const scenarioCalls: Record<string, { tool: string; args: Record<string, unknown> }> = {
  tools_call: { tool: "add_numbers", args: { a: 5, b: 3 } },
  "elicitation-sep1034-client-defaults": { tool: "test_client_elicitation_defaults", args: {} },
  "sse-retry": { tool: "test_reconnection", args: {} },
};

const redirectUrl = "http://localhost:3000/callback";
/** The client ID metadata document's URL (SEP-991), for authorization servers that accept one. */
const clientMetadataUrl = "https://conformance-test.local/client-metadata.json";

/**
 * The one-time authorization-code step a person completes in a browser, played without one: the
 * test authorization server approves at once, so following its redirect yields the code.
 */
class ApprovingProvider implements McpAuthProvider {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = "";
  #code: URLSearchParams | undefined;
  readonly clientMetadataUrl = clientMetadataUrl;

  get redirectUrl(): string {
    return redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: "brook-conformance", redirect_uris: [redirectUrl] };
  }

  clientInformation() {
    return this.#client;
  }

  saveClientInformation(client: OAuthClientInformationMixed): void {
    this.#client = client;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    const response = await fetch(url, { redirect: "manual" });
    const location = response.headers.get("location");
    const query = location === null ? null : new URL(location).searchParams;
    if (query?.get("code") == null) {
      throw new Error(`The authorization server did not redirect with a code (${response.status}).`);
    }
    // The whole query: its `iss` is checked against the authorization server (RFC 9207).
    this.#code = query;
  }

  async authorizationCode(): Promise<URLSearchParams | undefined> {
    const code = this.#code;
    this.#code = undefined;
    return code;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }
}

function authProvider(scenario: string, rawContext: string | undefined): McpAuthProvider | undefined {
  const context = (): Context => Context.parse(JSON.parse(rawContext ?? "{}"));
  if (!scenario.startsWith("auth/")) return undefined;
  if (scenario === "auth/client-credentials-jwt") {
    const given = context();
    if (given.name !== scenario) throw new Error(`The context is for ${given.name}.`);
    return mcpAuthProvider(
      {
        grant: "client_credentials",
        clientId: given.client_id,
        privateKey: given.private_key_pem,
        algorithm: given.signing_algorithm ?? "ES256",
        scope: undefined,
      },
      "brook-conformance",
    );
  }
  if (scenario === "auth/client-credentials-basic" || scenario === "auth/pre-registration") {
    const given = context();
    if (given.name !== scenario) throw new Error(`The context is for ${given.name}.`);
    return mcpAuthProvider(
      { grant: "client_credentials", clientId: given.client_id, clientSecret: given.client_secret, scope: undefined },
      "brook-conformance",
    );
  }
  return new ApprovingProvider();
}

/**
 * Connects to the scenario's server, lists its tools and calls the scenario's tool; throws when
 * the connection or the call fails. `rawContext` is `MCP_CONFORMANCE_CONTEXT`.
 */
export async function runScenario(
  url: string,
  scenario: string,
  rawContext: string | undefined,
  log?: { info(message: string): void; warn(message: string): void },
): Promise<void> {
  const auth = authProvider(scenario, rawContext);
  let changed: () => void = () => {};
  const connection = new McpConnection(
    { kind: "remote", name: "conformance", url, headers: {}, preferSse: false },
    {
      clientInfo: { name: "brook", version: "0.1.0" },
      retryMaxMs: 1_000,
      // The suite runs its scenarios side by side: a loaded machine answers slowly.
      requestTimeoutMs: 50_000,
      onChange: () => changed(),
      ...(log === undefined ? {} : { log }),
      ...(auth === undefined ? {} : { authProvider: auth }),
      // A person who submits the form untouched: the requested schema's defaults fill it.
      onElicitation: async () => ({ action: "accept", content: {} }),
    },
  );
  const ready = new Promise<void>((resolve) => {
    changed = () => {
      if (connection.state !== "connecting") resolve();
    };
  });
  connection.start();
  await ready;
  try {
    if (connection.state !== "connected") throw new Error(connection.status().last_error ?? "not connected");
    const wanted = scenarioCalls[scenario] ?? { tool: "test-tool", args: {} };
    if (connection.tools.some((tool) => tool.name === wanted.tool)) {
      const result = await connection.callTool(wanted.tool, wanted.args, {
        signal: AbortSignal.timeout(50_000),
        timeoutMs: 50_000,
      });
      log?.info(`${wanted.tool}: ${JSON.stringify(result)}`);
    }
  } finally {
    await connection.close();
  }
}
