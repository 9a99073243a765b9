// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
/** The web UI's approval card for tools that need a person's approval, in headless Chromium. */
import { describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

const asking = (text: string) =>
  `echo please ${fake({ toolCallDeltas: toolCallDeltas([{ name: "echo", arguments: JSON.stringify({ text }) }]) })}`;

describe("web UI: approving tool calls", () => {
  let harness: Harness;
  let mcp: McpTestServer;
  const chromium = chromiumSuite({
    start: async () => {
      mcp = await startMcpTestServer();
      harness = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "echo" });
      await untilConnected(harness.url);
      return [mcp, harness];
    },
  });

  const echoed = (text: string) => mcp.log.calls.some((call) => call.name === "echo" && call.args.text === text);

  it("shows the tool, its server and arguments, again after a reload, and what was decided: denied with a reason, then approved", async () => {
    const opened = await chromium.open(harness.url);
    const { page } = opened;
    await send(page, asking("first"));
    const card = answers(page).last().locator('[data-testid="approval-card"]');
    await card.waitFor();
    expect(await card.getAttribute("data-decision")).toBe("pending");
    expect(await card.innerText()).toContain("echo");
    expect(await card.innerText()).toContain("on mcp");
    expect(await card.innerText()).toContain('{"text":"first"}');

    // The run waits on the server: a reload finds it, and the card, again.
    await page.reload();
    const again = answers(page).last().locator('[data-testid="approval-card"]');
    await again.waitFor();
    await until(async () => (await again.getAttribute("data-decision")) === "pending");
    await again.getByLabel("Reason (optional)").fill("not now");
    await again.getByRole("button", { name: "Deny" }).click();
    await waitForAnswer(page);
    await until(async () => (await again.getAttribute("data-decision")) === "denied");
    expect(await again.locator('[data-testid="approval-state"]').innerText()).toBe("Denied");
    expect(await again.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await answers(page).last().innerText()).toContain("not now");
    expect(echoed("first")).toBe(false);

    await send(page, asking("second"));
    const next = answers(page).last().locator('[data-testid="approval-card"]');
    await next.waitFor();
    await next.getByRole("button", { name: "Approve" }).click();
    await waitForAnswer(page);
    await until(async () => (await next.getAttribute("data-decision")) === "approved");
    expect(echoed("second")).toBe(true);
    expect(await answers(page).last().innerText()).toContain("Tool said: echo: second");

    // Kept with the conversation after the runs ended.
    await page.reload();
    const kept = page.locator('[data-testid="approval-card"]');
    await until(async () => (await kept.count()) === 2);
    expect(await kept.first().getAttribute("data-decision")).toBe("denied");
    expect(await kept.last().getAttribute("data-decision")).toBe("approved");
  });
});
