import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpConnectResult, type McpServerStatus, ToolList } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBrookCli } from "./support/brook-cli.js";
import { streamEvents, until } from "./support/brook-harness.js";
import { health, toolCallDeltas, toolEvents } from "./support/mcp-harness.js";
import { startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { type RedisServer, startRedisServer } from "./support/redis-server.js";
import { fake } from "./support/sse-text.js";
import { startTestAuthorizationServer } from "./support/test-authorization-server.js";

const apiKey = "connect-test-key";
const auth = { authorization: `Bearer ${apiKey}` };

/** An MCP server behind a separate authorization server that approves every authorization request. */
async function protectedServer(options: Parameters<typeof startTestAuthorizationServer>[0] = {}) {
  const authorization = await startTestAuthorizationServer(options);
  afterThisTest(() => authorization.close());
  const server = await startMcpTestServer({
    resourceAuth: { issuer: authorization.issuer, verify: authorization.verify, scope: "tools:read" },
  });
  afterThisTest(() => server.close());
  return { authorization, server };
}

async function serversFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "brook-mcp-connect-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "mcp.json");
  await writeFile(path, JSON.stringify(content));
  return path;
}

async function statusOf(url: string): Promise<McpServerStatus> {
  const [status] = (await health(url)).mcp_servers;
  if (status === undefined) throw new Error("no MCP server");
  return status;
}

async function untilStatus(url: string, wanted: McpServerStatus["status"]): Promise<McpServerStatus> {
  await until(async () => (await statusOf(url)).status === wanted, 10_000);
  return await statusOf(url);
}

/**
 * What a person's browser does: asks Brook for the authorization page, opens it (the test server
 * approves at once and redirects), and follows the redirect to Brook's callback.
 */
async function connect(url: string, server = "guarded"): Promise<Response> {
  const started = await fetch(`${url}/mcp/servers/${server}/connect`, { method: "POST", headers: auth });
  expect(started.status).toBe(200);
  const { authorization_url: page } = McpConnectResult.parse(await started.json());
  const approved = await fetch(page, { redirect: "manual" });
  expect(approved.status).toBe(302);
  const callback = approved.headers.get("location") ?? "";
  expect(callback.startsWith(`${url}/mcp/oauth/callback?`)).toBe(true);
  return await fetch(callback, { redirect: "manual" });
}

function echoRun(text: string) {
  return `go ${fake({ toolCallDeltas: toolCallDeltas([{ id: "c1", name: "echo", arguments: JSON.stringify({ text }) }]) })}`;
}

describe("an MCP server connected with the OAuth authorization code", () => {
  it("needs connecting until a person connects it; then its tools are used, and no token reaches a client", async () => {
    const { authorization, server } = await protectedServer({
      clients: [{ clientId: "brook-web", clientSecret: "web-s3cret" }],
    });
    const file = await serversFile({
      mcpServers: {
        guarded: {
          url: server.url,
          oauth: { grant: "authorization_code", client_id: "brook-web", client_secret: "web-s3cret" },
        },
      },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });

    const waiting = await untilStatus(url, "needs_connect");
    expect(waiting).toMatchObject({
      auth: "oauth_authorization_code",
      tool_count: 0,
      authorization: { connected: false, expires_at: null },
    });
    // Nobody connected it: Brook never bothered the server with a request it knows will fail.
    expect(server.sessionsStarted()).toBe(0);
    const before = ToolList.parse(await (await fetch(`${url}/tools`, { headers: auth })).json());
    expect(before.tools).toEqual([]);
    expect(before.servers?.[0]).toMatchObject({ name: "guarded", status: "needs_connect" });

    // Connecting takes an API key like every API route.
    expect((await fetch(`${url}/mcp/servers/guarded/connect`, { method: "POST" })).status).toBe(401);
    const unknown = await fetch(`${url}/mcp/servers/nope/connect`, { method: "POST", headers: auth });
    expect(unknown.status).toBe(404);

    const back = await connect(url);
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe("/?mcp_connected=guarded");
    // PKCE, the scope from WWW-Authenticate and the resource went with the authorization request.
    const [request] = authorization.authorizations;
    expect(request?.get("code_challenge_method")).toBe("S256");
    expect(request?.get("scope")).toBe("tools:read");
    expect(request?.get("resource")).toBe(server.url);

    const connected = await untilStatus(url, "connected");
    expect(connected.authorization).toMatchObject({ connected: true, scope: "tools:read" });
    expect(Date.parse(connected.authorization?.expires_at ?? "")).toBeGreaterThan(Date.now());

    const events = await streamEvents(url, { message: echoRun("granted") }, { headers: auth });
    expect(toolEvents(events)[1]).toMatchObject({ result: "echo: granted", is_error: false });

    const tools = await (await fetch(`${url}/tools`, { headers: auth })).text();
    const seen = JSON.stringify([await health(url), tools, events]);
    for (const token of authorization.issued) expect(seen).not.toContain(token);
    expect(seen).not.toContain("web-s3cret");
  });

  it("registers itself dynamically when no client is configured, and a callback is used only once", async () => {
    const { authorization, server } = await protectedServer();
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code" } } },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });
    await untilStatus(url, "needs_connect");

    const started = await fetch(`${url}/mcp/servers/guarded/connect`, { method: "POST", headers: auth });
    const { authorization_url: page } = McpConnectResult.parse(await started.json());
    expect(authorization.registered).toHaveLength(1);
    expect(authorization.registered[0]?.redirectUris).toEqual([`${url}/mcp/oauth/callback`]);
    const callback = (await fetch(page, { redirect: "manual" })).headers.get("location") ?? "";
    expect((await fetch(callback, { redirect: "manual" })).status).toBe(303);
    await untilStatus(url, "connected");

    // The same state again (a replayed or stolen link) is refused, and shows a page, not a stack.
    const replayed = await fetch(callback, { redirect: "manual" });
    expect(replayed.status).toBe(400);
    expect(replayed.headers.get("content-type")).toContain("text/html");
    expect(await replayed.text()).toContain("unknown, used or expired");
    // A made-up state as well.
    const forged = await fetch(`${url}/mcp/oauth/callback?state=made-up&code=anything`, { redirect: "manual" });
    expect(forged.status).toBe(400);
    // Connecting again reuses the registration.
    await connect(url);
    expect(authorization.registered).toHaveLength(1);
  });

  it("refreshes an expired access token with the refresh token, and the run's call goes through", async () => {
    const { authorization, server } = await protectedServer({ clients: [{ clientId: "brook-public" }] });
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code", client_id: "brook-public" } } },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });
    await untilStatus(url, "needs_connect");
    await connect(url);
    await untilStatus(url, "connected");
    expect(authorization.issued).toHaveLength(1);

    authorization.expireAccessTokens();
    const events = await streamEvents(url, { message: echoRun("after expiry") }, { headers: auth });
    expect(toolEvents(events)[1]).toMatchObject({ result: "echo: after expiry", is_error: false });
    expect(authorization.refreshes).toBe(1);
    expect(authorization.issued).toHaveLength(2);
    expect((await statusOf(url)).status).toBe("connected");
  });

  it("steps up: a tool refused for want of a scope asks the person for it, and works once granted", async () => {
    const authorization = await startTestAuthorizationServer({ clients: [{ clientId: "brook-public" }] });
    afterThisTest(() => authorization.close());
    const server = await startMcpTestServer({
      resourceAuth: {
        issuer: authorization.issuer,
        verify: authorization.verify,
        scope: "tools:read",
        toolScopes: { echo: "notes:write" },
      },
    });
    afterThisTest(() => server.close());
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code", client_id: "brook-public" } } },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });
    await untilStatus(url, "needs_connect");
    await connect(url);
    await untilStatus(url, "connected");

    const refused = await streamEvents(url, { message: echoRun("needs write") }, { headers: auth });
    expect(toolEvents(refused)[1]).toMatchObject({ is_error: true });
    expect(JSON.stringify(toolEvents(refused)[1])).toContain('needs more access on the MCP server \\"guarded\\"');
    const status = await statusOf(url);
    expect(status).toMatchObject({
      status: "connected",
      authorization: { scope: "tools:read", step_up_scope: "tools:read notes:write" },
    });
    // The narrower grant was not refreshed in vain.
    expect(authorization.refreshes).toBe(0);
    expect(server.log.calls.some((call) => call.name === "echo")).toBe(false);

    // Connecting again asks for the wider scope; the tool then works.
    await connect(url);
    expect(authorization.authorizations.at(-1)?.get("scope")).toBe("tools:read notes:write");
    const granted = await streamEvents(url, { message: echoRun("now writable") }, { headers: auth });
    expect(toolEvents(granted)[1]).toMatchObject({ result: "echo: now writable", is_error: false });
    expect((await statusOf(url)).authorization).toMatchObject({ scope: "tools:read notes:write", step_up_scope: null });
  });

  it("is connected from the command line: brook mcp connect prints the page", { timeout: 60_000 }, async () => {
    const { server } = await protectedServer({ clients: [{ clientId: "brook-public" }] });
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code", client_id: "brook-public" } } },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });
    await untilStatus(url, "needs_connect");

    const printed = await runBrookCli(["mcp", "connect", "guarded", "--url", url, "--api-key", apiKey]);
    expect(printed.code).toBe(0);
    expect(printed.stderr).toContain('Open this page in a browser to connect "guarded"');
    const callback = (await fetch(printed.stdout.trim(), { redirect: "manual" })).headers.get("location") ?? "";
    expect((await fetch(callback, { redirect: "manual" })).status).toBe(303);
    await untilStatus(url, "connected");

    const unknown = await runBrookCli(["mcp", "connect", "nope", "--url", url, "--api-key", apiKey]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("(not_found)");
    const keyless = await runBrookCli(["mcp", "connect", "guarded", "--url", url]);
    expect(keyless.stderr).toContain("Give one with --api-key");
  });

  it("reports a refused authorization on a page and stays waiting", async () => {
    const { server } = await protectedServer({ clients: [{ clientId: "brook-public" }] });
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code", client_id: "brook-public" } } },
    });
    const { url } = await harness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey });
    await untilStatus(url, "needs_connect");
    const started = await fetch(`${url}/mcp/servers/guarded/connect`, { method: "POST", headers: auth });
    const page = new URL(McpConnectResult.parse(await started.json()).authorization_url);
    const denied = await fetch(
      `${url}/mcp/oauth/callback?state=${page.searchParams.get("state")}&error=access_denied&error_description=${encodeURIComponent("<b>no</b>")}`,
    );
    expect(denied.status).toBe(400);
    const text = await denied.text();
    expect(text).toContain("&quot;guarded&quot; was not connected (access_denied: &lt;b&gt;no&lt;/b&gt;)");
    expect((await statusOf(url)).status).toBe("needs_connect");
  });
});

describe("OAuth grants shared through Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.close());

  it("a server connected on one instance is used by another; the grant is sealed in Redis", async () => {
    const { authorization, server } = await protectedServer({ clients: [{ clientId: "brook-public" }] });
    const file = await serversFile({
      mcpServers: { guarded: { url: server.url, oauth: { grant: "authorization_code", client_id: "brook-public" } } },
    });
    const env = {
      MCP_SERVERS: file,
      BROOK_API_KEYS: apiKey,
      REDIS_URL: redis.url,
      MCP_OAUTH_KEY: "a passphrase for the test",
      MCP_RETRY_MAX_MS: "100",
    };
    const a = await harness(env);
    const b = await harness(env);
    await untilStatus(a.url, "needs_connect");
    await untilStatus(b.url, "needs_connect");

    // The connect starts on A; the browser comes back to B.
    const started = await fetch(`${a.url}/mcp/servers/guarded/connect`, { method: "POST", headers: auth });
    const { authorization_url: page } = McpConnectResult.parse(await started.json());
    const callback = new URL((await fetch(page, { redirect: "manual" })).headers.get("location") ?? "");
    const back = await fetch(`${b.url}${callback.pathname}${callback.search}`, { redirect: "manual" });
    expect(back.status).toBe(303);

    await untilStatus(a.url, "connected");
    await untilStatus(b.url, "connected");
    const events = await streamEvents(b.url, { message: echoRun("on b") }, { headers: auth });
    expect(toolEvents(events)[1]).toMatchObject({ result: "echo: on b", is_error: false });
    // One authorization served both instances.
    expect(authorization.issued).toHaveLength(1);

    const stored = await redis.client.get("brook:mcp-oauth:{guarded}:grant");
    expect(stored).toMatch(/^sealed:v1:/);
    expect(stored).not.toContain(authorization.issued[0]);
  });
});
