// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
import { Health } from "@brook/shared";
import type { Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";

const key = "brook-web-key-0123456789";
const STORED_KEY = "brook.api-key";

function keyPrompt(page: Page) {
  return page.getByRole("dialog", { name: "API key required" });
}

async function enterKey(page: Page, value: string): Promise<void> {
  const dialog = keyPrompt(page);
  await dialog.getByLabel("API key", { exact: true }).fill(value);
  await dialog.getByRole("button", { name: "Save key" }).click();
}

async function storedKey(page: Page): Promise<unknown> {
  return page.evaluate(`JSON.parse(localStorage.getItem(${JSON.stringify(STORED_KEY)}) ?? "null")`);
}

/** The browser logs each refused request itself; those are expected when a key is deliberately wrong. */
function isRefusedRequest(error: string): boolean {
  return /^Failed to load resource: .*\b401\b/.test(error);
}

// Retried: on a loaded machine the refusal of a wrong key sometimes never shows (seen before and
// after the latest changes, never on a quiet machine); its cause is still to be found.
describe("web UI with API keys, in headless Chromium", { retry: 2 }, () => {
  let harness: Harness;
  const chromium = chromiumSuite({
    start: async () => (harness = await startHarness({ BROOK_API_KEYS: `other-key,${key}` })),
    expectedError: isRefusedRequest,
  });

  it("asks for a key up front, refuses a wrong one, then streams and keeps history with the stored key", async () => {
    const health = Health.parse(await (await fetch(`${harness.url}/health`)).json());
    expect(health.auth_required).toBe(true);

    const opened = await chromium.open(harness.url);
    const { page } = opened;
    const prompt = keyPrompt(page);
    await prompt.waitFor();
    expect(await prompt.innerText()).toContain("asks for an API key");
    await opened.screenshot("api-key-prompt-light-wide");

    // Ready to type the key: the focus lands on its field (waited for: React focuses it after the
    // dialog opens). A wrong one is checked at once and refused, and the prompt comes back saying so.
    await vi.waitFor(
      async () => expect(await page.evaluate("document.activeElement?.getAttribute('type')")).toBe("password"),
      { timeout: 10_000 },
    );
    await page.keyboard.type("not-the-key");
    await page.keyboard.press("Enter");
    const refusal = prompt.getByRole("alert");
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.innerText()).toBe("Brook refused the key. Enter a valid one.");
    await opened.screenshot("api-key-refused-light-wide");
    expect(opened.errors.some(isRefusedRequest)).toBe(true);

    await page.keyboard.type(key);
    await page.keyboard.press("Enter");
    await prompt.waitFor({ state: "hidden" });
    expect(await storedKey(page)).toBe(key);

    // The chat streams through the tRPC subscription, the key passed as its connection parameter.
    harness.upstream.enqueue({ chunks: ["Paris ", "is the ", "capital."] }, { text: "About 2.1 million people." });
    await send(page, "What is the capital of France?");
    await waitForAnswer(page);
    expect(await answers(page).last().innerText()).toContain("Paris is the capital.");
    await send(page, "How many people live there?");
    await until(async () => (await answers(page).count()) === 2);
    await waitForAnswer(page);
    expect(harness.upstream.requests.at(-1)?.body.messages.slice(-3)).toEqual([
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris is the capital." },
      { role: "user", content: "How many people live there?" },
    ]);
    await opened.screenshot("api-key-chat-light-wide");

    // After a reload the stored key is used without asking again.
    const errorsBeforeReload = opened.errors.length;
    await page.reload();
    await until(async () => (await answers(page).count()) === 2);
    harness.upstream.enqueue({ text: "Still authorised." });
    await send(page, "Are you still there?");
    await until(async () => (await answers(page).count()) === 3);
    await waitForAnswer(page);
    expect(await answers(page).last().innerText()).toContain("Still authorised.");
    expect(await prompt.isVisible()).toBe(false);
    expect(harness.upstream.requests.at(-1)?.body.messages.slice(-2)).toEqual([
      { role: "assistant", content: "About 2.1 million people." },
      { role: "user", content: "Are you still there?" },
    ]);
    // The statistics (a keyed call) open without a prompt too.
    await page.getByRole("button", { name: "Statistics" }).click();
    await page.getByRole("dialog", { name: "Usage statistics" }).locator('[data-testid="stats"]').waitFor();
    expect(await prompt.isVisible()).toBe(false);
    expect(opened.errors.slice(errorsBeforeReload)).toEqual([]);
  }, 60_000);

  it("asks again when a stored key stops working, then retries the answer with the new one", async () => {
    const opened = await chromium.open(harness.url, { storage: { [STORED_KEY]: JSON.stringify("revoked-key") } });
    const { page } = opened;
    const requestsBefore = harness.upstream.requests.length;
    harness.upstream.enqueue({ text: "Answered with the new key." });
    await send(page, "Hello again");

    const prompt = keyPrompt(page);
    await prompt.waitFor();
    expect(await prompt.getByRole("alert").innerText()).toContain("refused the key");
    // Nothing refused reached the model.
    expect(harness.upstream.requests.length).toBe(requestsBefore);

    await enterKey(page, key);
    await prompt.waitFor({ state: "hidden" });
    await waitForAnswer(page);
    expect(await answers(page).count()).toBe(1);
    expect(await answers(page).last().innerText()).toContain("Answered with the new key.");
    expect(await storedKey(page)).toBe(key);
    expect(harness.upstream.requests.length).toBe(requestsBefore + 1);
  }, 30_000);
});
