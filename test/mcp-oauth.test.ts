import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToolList } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { streamEvents } from "./support/brook-harness.js";
import { health, toolCallDeltas, toolEvents, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

const client = { clientId: "brook-test", clientSecret: "s3cret-value" };

async function protectedServer(): Promise<McpTestServer> {
  const server = await startMcpTestServer({ oauth: client });
  afterThisTest(() => server.close());
  return server;
}

async function serversFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "brook-mcp-oauth-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "mcp.json");
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe("an OAuth-protected MCP server", () => {
  it("is reached with client credentials found from WWW-Authenticate and the metadata; the token stays on the server side", async () => {
    const server = await protectedServer();
    const origin = new URL(server.url).origin;
    const file = await serversFile({
      mcpServers: {
        guarded: {
          url: server.url,
          headers: { "X-Team": "brook" },
          oauth: { client_id: client.clientId, client_secret: client.clientSecret, issuer: origin },
        },
      },
    });
    const { url } = await harness({ MCP_SERVERS: file });

    const [status] = await untilConnected(url);
    expect(status).toMatchObject({
      name: "guarded",
      status: "connected",
      auth: "oauth_client_credentials",
      protocol_version: "2025-11-25",
    });
    // The first request went without a token, was refused, and Brook fetched one.
    expect(server.oauth.refused[0]).toBeUndefined();
    expect(server.oauth.issued).toHaveLength(1);
    const [token] = server.oauth.issued;

    const tools = ToolList.parse(await (await fetch(`${url}/tools`)).json());
    expect(tools.tools.find((tool) => tool.name === "echo")).toMatchObject({ protocol_version: "2025-11-25" });

    const message = `go ${fake({ toolCallDeltas: toolCallDeltas([{ id: "c1", name: "echo", arguments: '{"text":"behind oauth"}' }]) })}`;
    const events = await streamEvents(url, { message });
    expect(toolEvents(events)[1]).toMatchObject({ result: "echo: behind oauth", is_error: false });
    // One token served the whole session.
    expect(server.oauth.issued).toHaveLength(1);

    // Nothing a client can read carries the token or the secret.
    const seen = JSON.stringify([await health(url), tools, events]);
    expect(seen).not.toContain(token);
    expect(seen).not.toContain(client.clientSecret);
  });

  it("reports a refused client as unavailable, naming the failure without the secret", async () => {
    const server = await protectedServer();
    const file = await serversFile({
      mcpServers: {
        guarded: { url: server.url, oauth: { client_id: client.clientId, client_secret: "wrong-secret" } },
      },
    });
    const { url } = await harness({ MCP_SERVERS: file, MCP_RETRY_MAX_MS: "200" });
    let status = (await health(url)).mcp_servers[0];
    await expect
      .poll(async () => {
        status = (await health(url)).mcp_servers[0];
        return status?.status;
      })
      .toBe("unavailable");
    expect(status?.last_error).toEqual(expect.any(String));
    expect(status?.last_error).not.toContain("wrong-secret");
    expect(server.oauth.issued).toHaveLength(0);
  });
});
