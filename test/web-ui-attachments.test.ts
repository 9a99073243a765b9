/** Images and files in the web UI: attach, paste, remove, a size error, send, reload. */
import { describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { drawablePng } from "./support/images.js";

describe("web UI: images and files in messages", () => {
  let harness: Harness;
  const chromium = chromiumSuite({
    start: async () => (harness = await startHarness({}, { text: "I see a grey picture." })),
  });

  it("attaches, pastes and removes files, refuses a large one before sending, sends, and keeps thumbnails after a reload", async () => {
    const opened = await chromium.open(harness.url);
    const { page } = opened;
    const photo = drawablePng(1200, 800);
    const picker = page.getByLabel("Attach files");
    await picker.setInputFiles([
      { name: "photo.png", mimeType: "image/png", buffer: photo },
      { name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from("# Notes\nall grey") },
      { name: "extra.txt", mimeType: "text/plain", buffer: Buffer.from("remove me") },
    ]);
    const pending = page.locator("form [data-testid=attachment]");
    await until(async () => (await pending.count()) === 3);
    await page.getByRole("button", { name: "Remove extra.txt" }).click();
    await until(async () => (await pending.count()) === 2);

    // Too large: an error before sending, nothing added.
    await picker.setInputFiles([
      { name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(11 * 1024 * 1024, 1) },
    ]);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("huge.png is larger than 10 MB");
    expect(await pending.count()).toBe(2);

    // A pasted image joins them.
    const pasted = drawablePng(40, 30).toString("base64");
    // In the page (these types know no DOM): a paste of one PNG file into the message box.
    await page.evaluate(`(() => {
      const element = document.querySelector('textarea[aria-label="Message"]');
      const bytes = Uint8Array.from(atob(${JSON.stringify(pasted)}), (character) => character.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
      element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    await until(async () => (await pending.count()) === 3);

    await send(page, "What colour is it?");
    await waitForAnswer(page);
    expect(await pending.count()).toBe(0);
    const first = harness.upstream.requests.at(-1)?.body.messages.at(-1);
    expect(first.content).toEqual([
      { type: "text", text: "What colour is it?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${photo.toString("base64")}` } },
      { type: "text", text: '<file name="notes.md" media_type="text/markdown">\n# Notes\nall grey\n</file>' },
      { type: "image_url", image_url: { url: `data:image/png;base64,${pasted}` } },
    ]);

    // The conversation shows them, and keeps a downscaled copy of the large image only.
    const shown = page.locator('[data-role="user"] [data-testid=attachment]');
    expect(await shown.count()).toBe(3);
    await page.reload();
    await until(async () => (await shown.count()) === 3);
    const kept = await page.getByRole("img", { name: "photo.png" }).getAttribute("src");
    expect(kept).toMatch(/^data:image\/jpeg;base64,/);
    expect(kept?.length ?? 0).toBeLessThan(photo.toString("base64").length);
    await expect(page.getByRole("img", { name: "pasted.png" }).getAttribute("src")).resolves.toBe(
      `data:image/png;base64,${pasted}`,
    );

    // A follow-up sends the kept copies as the earlier turn's parts.
    await send(page, "And now?");
    await until(async () => (await answers(page).count()) === 2);
    await waitForAnswer(page);
    const history = harness.upstream.requests.at(-1)?.body.messages.at(-3);
    expect(history.content).toEqual([
      { type: "text", text: "What colour is it?" },
      { type: "image_url", image_url: { url: kept } },
      { type: "text", text: '<file name="notes.md" media_type="text/markdown">\n# Notes\nall grey\n</file>' },
      { type: "image_url", image_url: { url: `data:image/png;base64,${pasted}` } },
    ]);
  }, 90_000);
});
