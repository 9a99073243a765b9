import { describe, expect, it } from "vitest";
import { type Harness, startDemoBrook, startHarness } from "./support/brook-harness.js";
import { chromiumSuite } from "./support/chromium-suite.js";

const key = "brook-docs-key-0123456789";

describe("the API reference at /docs, in headless Chromium", () => {
  let harness: Harness;
  // Console errors, which fail a test, include the page's refusals under its Content-Security-Policy.
  const chromium = chromiumSuite({
    start: async () => (harness = await startHarness({ BROOK_API_KEYS: key }, { text: "Sent from the reference." })),
  });

  it("is served open, with a Content-Security-Policy, and linked from GET /", async () => {
    const page = await fetch(`${harness.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const info = (await (await fetch(harness.url)).json()) as { docs?: string; endpoints: Record<string, string> };
    expect(info.docs).toBe("/docs");
    expect(Object.keys(info.endpoints)).toEqual(expect.arrayContaining(["GET /docs", "GET /openapi.json"]));
    // Only Swagger UI's own files are served under /docs.
    expect((await fetch(`${harness.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
    expect((await fetch(`${harness.url}/docs/package.json`)).status).toBe(404);
  });

  it("loads from Brook alone under its policy, takes a key and sends a request", async () => {
    const opened = await chromium.open(`${harness.url}/docs`);
    const { page } = opened;
    const chat = page.locator("#operations-Brook-postChat");
    await chat.waitFor();

    // The key field (keys are on): Swagger UI's Authorize dialog for the bearer scheme.
    await page.locator("button.authorize").first().click();
    const dialog = page.locator(".modal-ux");
    await dialog.locator("input").first().fill(key);
    await dialog.locator("button.modal-btn.authorize").click();
    await dialog.locator("button.btn-done").click();

    // POST /chat with the example body it shows (the seed's "你好，世界！").
    await chat.locator(".opblock-summary").click();
    await chat.locator("button.execute").click();
    const response = chat.locator(".live-responses-table .response").first();
    await response.waitFor();
    await expect.poll(() => response.locator(".response-col_status").textContent()).toContain("200");
    expect(await response.locator(".response-col_description").textContent()).toContain("Sent from the reference.");

    const sent = harness.upstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(sent.messages.at(-1)).toMatchObject({ role: "user", content: "你好，世界！" });

    // Everything the page loaded came from Brook.
    const loaded = (await page.evaluate(
      "performance.getEntriesByType('resource').map((entry) => entry.name)",
    )) as string[];
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((url) => !url.startsWith(harness.url))).toEqual([]);
    await opened.screenshot("docs");
  });

  it("is linked from the web UI", async () => {
    const demo = await startDemoBrook();
    try {
      const opened = await chromium.open(demo.url);
      const link = opened.page.getByRole("link", { name: "API reference" });
      const [docs] = await Promise.all([opened.page.context().waitForEvent("page"), link.click()]);
      await docs.locator("#operations-Brook-postChatStream").waitFor();
      expect(new URL(docs.url()).pathname).toBe("/docs");
      await opened.close();
    } finally {
      await demo.close();
    }
  });
});
