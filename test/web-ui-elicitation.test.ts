// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
/** The web UI's form for an MCP server's question during a tool call (elicitation), in headless Chromium. */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { ensureWebBuild, launchChromium, type OpenedPage, openPage } from "./support/browser.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

const asking = (marker: string) =>
  `${marker} ${fake({ toolCallDeltas: toolCallDeltas([{ name: "ask", arguments: "{}" }]) })}`;

describe("web UI: answering an MCP server's question", () => {
  let browser: Browser;
  let harness: Harness;
  let mcp: McpTestServer;
  let opened: OpenedPage | undefined;

  beforeAll(async () => {
    ensureWebBuild();
    mcp = await startMcpTestServer({ elicitation: true });
    [browser, harness] = await Promise.all([launchChromium(), startHarness({ MCP_URL: mcp.url })]);
    await untilConnected(harness.url);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await mcp?.close();
  });
  afterEach(async () => {
    const errors = opened?.errors ?? [];
    await opened?.close();
    opened = undefined;
    expect(errors).toEqual([]);
  });

  it("shows a form made from the requested schema; the filled-in content reaches the tool and the answer goes on", async () => {
    opened = await openPage(browser, harness.url);
    const { page } = opened;
    await send(page, asking("web-accept"));
    const card = answers(page).last().locator('[data-testid="input-request"]');
    await card.waitFor();
    expect(await card.getAttribute("data-state")).toBe("pending");
    expect(await card.locator('[data-testid="input-message"]').innerText()).toBe("Who are you?");
    expect(await card.innerText()).toContain("on mcp asks");
    // Required fields are marked and required; the defaults are filled in.
    const name = card.getByLabel(/Your name/);
    expect(await name.getAttribute("required")).not.toBeNull();
    expect(await card.getByLabel(/Favourite colour/).inputValue()).toBe("green");
    expect(await card.getByLabel(/Subscribe/).isChecked()).toBe(false);
    expect(await card.getByLabel(/Age/).getAttribute("type")).toBe("number");

    await name.fill("Ada");
    await card.getByLabel(/Age/).fill("36");
    await card.getByLabel(/Favourite colour/).selectOption("blue");
    await card.getByLabel(/Subscribe/).check();
    await card.getByRole("button", { name: "Accept" }).click();
    await waitForAnswer(page);
    await until(async () => (await card.getAttribute("data-state")) === "accept");
    const expected = 'accept {"name":"Ada","age":36,"color":"blue","subscribe":true}';
    expect(await answers(page).last().innerText()).toContain(`Tool said: ${expected}`);
    expect(await card.getByRole("button", { name: "Accept" }).count()).toBe(0);
  });

  it("declines and cancels; after a reload a waiting question shows its form again", async () => {
    opened = await openPage(browser, harness.url);
    const { page } = opened;
    await send(page, asking("web-decline"));
    const first = answers(page).last().locator('[data-testid="input-request"]');
    await first.waitFor();
    // The run waits on the server: a reload finds it, and the form, again.
    await page.reload();
    const again = answers(page).last().locator('[data-testid="input-request"]');
    await again.waitFor();
    await until(async () => (await again.getAttribute("data-state")) === "pending");
    await again.getByRole("button", { name: "Decline" }).click();
    await waitForAnswer(page);
    expect(await answers(page).last().innerText()).toContain("Tool said: decline");

    await send(page, asking("web-cancel"));
    const next = answers(page).last().locator('[data-testid="input-request"]');
    await next.waitFor();
    await next.getByRole("button", { name: "Cancel" }).click();
    await waitForAnswer(page);
    expect(await answers(page).last().innerText()).toContain("Tool said: cancel");
  });
});
