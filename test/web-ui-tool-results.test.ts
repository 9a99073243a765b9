// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
import { describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { startEverythingServer } from "./support/mcp-everything.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";

// The reference MCP server's rich results (an image, structured content, resource links) in the
// web UI's tool cards.
describe("web UI with rich MCP tool results", () => {
  let harness: Harness;
  const chromium = chromiumSuite({
    start: async () => {
      const everything = await startEverythingServer();
      harness = await startHarness({ MCP_URL: everything.url });
      await untilConnected(harness.url);
      return [everything, harness];
    },
  });

  it("shows a tool's image, structured result and resource links in its card", async () => {
    harness.upstream.enqueue(
      {
        toolCallDeltas: toolCallDeltas([
          { id: "c_image", name: "get-tiny-image", arguments: "{}" },
          { id: "c_weather", name: "get-structured-content", arguments: '{"location":"Chicago"}' },
          { id: "c_links", name: "get-resource-links", arguments: '{"count":2}' },
        ]),
      },
      { afterTools: { text: "Here they are." } },
    );
    const opened = await chromium.open(harness.url);
    try {
      const { page } = opened;
      await send(page, "Show me the image, the weather and two links");
      await waitForAnswer(page);
      const cards = answers(page).last().locator('[data-testid="tool-card"]');
      expect(await cards.count()).toBe(3);

      const image = cards.filter({ hasText: "get-tiny-image" });
      await image.locator("summary").click();
      const img = image.locator('[data-testid="tool-image"]');
      expect(await img.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
      // The image is decoded and drawn, not a broken link.
      expect(
        await img.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth),
      ).toBeGreaterThan(0);

      const weather = cards.filter({ hasText: "get-structured-content" });
      await weather.locator("summary").click();
      expect(await weather.locator('[data-testid="tool-structured"] pre').innerText()).toContain('"conditions"');

      const links = cards.filter({ hasText: "get-resource-links" });
      await links.locator("summary").click();
      const items = await links.locator('[data-testid="tool-resources"] li').allInnerTexts();
      expect(items).toHaveLength(2);
      expect(items[0]).toMatch(/demo:\/\//);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
