// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
/** Connecting an OAuth (authorization-code) MCP server from the web UI, in headless Chromium. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { ensureWebBuild, launchChromium, type OpenedPage, openPage } from "./support/browser.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { health, toolCallDeltas } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "./support/test-authorization-server.js";

const apiKey = "web-connect-key";

describe("web UI: connecting an OAuth MCP server", () => {
  let browser: Browser;
  let harness: Harness;
  let authorization: TestAuthorizationServer;
  let mcp: McpTestServer;
  let dir: string;
  let opened: OpenedPage | undefined;

  beforeAll(async () => {
    ensureWebBuild();
    authorization = await startTestAuthorizationServer();
    mcp = await startMcpTestServer({
      resourceAuth: { issuer: authorization.issuer, verify: authorization.verify, scope: "tools:read" },
    });
    dir = await mkdtemp(join(tmpdir(), "brook-web-connect-"));
    const file = join(dir, "mcp.json");
    // No client configured: Brook registers itself with the authorization server.
    await writeFile(
      file,
      JSON.stringify({ mcpServers: { notes: { url: mcp.url, oauth: { grant: "authorization_code" } } } }),
    );
    [browser, harness] = await Promise.all([
      launchChromium(),
      startHarness({ MCP_SERVERS: file, BROOK_API_KEYS: apiKey }),
    ]);
    await until(async () => (await health(harness.url)).mcp_servers[0]?.status === "needs_connect");
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await mcp?.close();
    await authorization?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    const errors = opened?.errors ?? [];
    await opened?.close();
    opened = undefined;
    expect(errors).toEqual([]);
  });

  it("shows the server as needing connecting; Connect goes through its authorization page and back, and a run calls its tool", async () => {
    opened = await openPage(browser, harness.url, { storage: { "brook.api-key": JSON.stringify(apiKey) } });
    const { page } = opened;
    const notice = page.locator('[data-testid="mcp-servers-notice"]');
    await notice.waitFor();
    expect(await notice.innerText()).toContain("notes needs connecting");
    await opened.screenshot("mcp-needs-connect");

    await notice.getByRole("button", { name: "Connect notes" }).click();
    // The authorization server approves at once; its redirect reaches Brook's callback, which returns here.
    await page.waitForURL((url) => url.origin === harness.url && url.pathname === "/" && url.search === "");
    await notice.getByRole("status").waitFor();
    expect(await notice.innerText()).toContain("notes is connected");
    expect(authorization.authorizations).toHaveLength(1);
    expect((await health(harness.url)).mcp_servers[0]?.status).toBe("connected");

    await send(
      page,
      `echo ${fake({ toolCallDeltas: toolCallDeltas([{ name: "echo", arguments: JSON.stringify({ text: "from the web" }) }]) })}`,
    );
    await waitForAnswer(page);
    expect(await answers(page).last().innerText()).toContain("echo: from the web");
    expect(mcp.log.calls.some((call) => call.name === "echo" && call.args.text === "from the web")).toBe(true);

    await notice.getByRole("button", { name: "OK" }).click();
    expect(await notice.count()).toBe(0);
  });
});
