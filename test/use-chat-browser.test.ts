// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
/**
 * A React page using `useChat` from `@ai-sdk/react`, unchanged, built with Vite and served by
 * Brook itself (as WEB_DIR), driven in headless Chromium.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { Page } from "playwright-core";
import { build } from "vite";
import { describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

const fixture = fileURLToPath(new URL("./fixtures/use-chat/", import.meta.url));

describe("useChat in headless Chromium", () => {
  let mcp: McpTestServer;
  let harness: Harness;
  // The fixture's page, not Brook's web UI.
  const chromium = chromiumSuite({
    webUi: false,
    start: async () => {
      const outDir = mkdtempSync(join(tmpdir(), "brook-use-chat-"));
      const removeOutDir = { close: async () => rmSync(outDir, { recursive: true, force: true }) };
      await build({
        root: fixture,
        configFile: false,
        logLevel: "silent",
        plugins: [react()],
        build: { outDir, emptyOutDir: true },
      });
      mcp = await startMcpTestServer();
      harness = await startHarness({ WEB_DIR: outDir, MCP_URL: mcp.url, TOOL_APPROVAL: "echo" });
      await untilConnected(harness.url);
      return [removeOutDir, mcp, harness];
    },
  });

  async function open(): Promise<Page> {
    return (await chromium.open(harness.url)).page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByRole("textbox", { name: "Message" }).fill(text);
    await page.getByRole("button", { name: "Send" }).click();
  }

  const answer = (page: Page) => page.locator('[data-role="assistant"]').last();
  const requestsOf = (marker: string) =>
    harness.upstream.requests.filter((request) => JSON.stringify(request.body.messages).includes(marker));

  it("streams an answer, with Brook's usage, and keeps the conversation", async () => {
    const page = await open();
    await send(page, `first ${fake({ text: "Spring wind brushes the face." })}`);
    await answer(page).getByTestId("usage").waitFor();
    expect(await answer(page).locator("p").innerText()).toBe("Spring wind brushes the face.");
    expect(await answer(page).getByTestId("usage").innerText()).toMatch(/^\d+ tokens$/);

    await send(page, `second-turn ${fake({ text: "Again." })}`);
    await page.locator('[data-role="assistant"]').nth(1).getByTestId("usage").waitFor();
    const [second] = requestsOf("second-turn");
    const roles = second?.body.messages.map((message: { role: string }) => message.role);
    expect(roles).toEqual(["system", "user", "assistant", "user"]);
  });

  it("shows Brook's MCP tool call and the answer that uses it", async () => {
    const page = await open();
    await send(
      page,
      `tool ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_b", name: "add", arguments: '{"a":20,"b":22}' }]) })}`,
    );
    await answer(page).getByTestId("usage").waitFor();
    expect(await answer(page).getByTestId("tool").innerText()).toBe("add: 42");
    expect(await answer(page).locator("p").innerText()).toBe("Tool said: 42");
  });

  it("approves a tool call with addToolApprovalResponse, and the same run goes on to its answer", async () => {
    const page = await open();
    const marker = `approve-${Date.now()}`;
    const calls = mcp.log.calls.length;
    await send(
      page,
      `${marker} ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_e", name: "echo", arguments: '{"text":"hi"}' }]) })}`,
    );
    const approve = answer(page).getByRole("button", { name: "Approve" });
    await approve.waitFor();
    expect(await answer(page).getByTestId("tool").innerText()).toMatch(/^echo: approval-requested/);
    // Nothing runs until the person approves.
    expect(mcp.log.calls.length).toBe(calls);

    await approve.click();
    await until(
      async () =>
        (await page.getByTestId("status").innerText()) === "ready" &&
        (await answer(page).locator("p").count()) > 0 &&
        (await answer(page).locator("p").innerText()) === "Tool said: echo: hi",
      15_000,
    );
    expect(await answer(page).getByTestId("tool").innerText()).toBe("echo: echo: hi");
    expect(mcp.log.calls.slice(calls).map((call) => call.args)).toEqual([{ text: "hi" }]);
    // One answer, one run: the model was asked once for the call and once with its result, no more.
    expect(await page.locator('[data-role="assistant"]').count()).toBe(1);
    expect(requestsOf(marker)).toHaveLength(2);
  });

  it("resumes the answer after a reload, without a second model call", async () => {
    const page = await open();
    const marker = `reload-${Date.now()}`;
    await send(page, `${marker} ${fake({ tokens: 40, delayMs: 25 })}`);
    await until(async () => (await answer(page).locator("p").count()) > 0, 10_000);
    await page.reload();
    await answer(page).getByTestId("usage").waitFor({ timeout: 15_000 });
    const expected = Array.from({ length: 40 }, (_, index) => (index === 0 ? "tok0" : ` tok${index}`)).join("");
    expect(await answer(page).locator("p").innerText()).toBe(expected);
    expect(requestsOf(marker)).toHaveLength(1);
  });

  it("stops the answer, and the model call behind it", async () => {
    const page = await open();
    const marker = `stop-${Date.now()}`;
    await send(page, `${marker} ${fake({ tokens: 1000, delayMs: 20 })}`);
    await until(async () => (await answer(page).locator("p").count()) > 0, 10_000);
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("button", { name: "Send" }).waitFor();
    const [request] = requestsOf(marker);
    expect((await request?.closed)?.aborted).toBe(true);
    expect(await page.getByTestId("status").innerText()).toBe("ready");
  });
});
