import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestBrook } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";

describe("web UI: the model picker with several models (MODELS)", () => {
  let upstream: FakeUpstream;
  let failing: FakeUpstream;
  let url: string;
  const chromium = chromiumSuite({
    start: async () => {
      const dir = await mkdtemp(join(tmpdir(), "brook-models-"));
      const removeDir = { close: () => rm(dir, { recursive: true, force: true }) };
      upstream = await startFakeUpstream({ text: "Answered." });
      failing = await startFakeUpstream({ status: 503 });
      const file = join(dir, "models.json");
      const main = { name: "main", base_url: failing.url, api_key: "k", model: "upstream-main", fallbacks: ["local"] };
      const local = { name: "local", base_url: upstream.url, model: "upstream-local", fallbacks: [] };
      await writeFile(file, JSON.stringify({ models: [main, local] }));
      const brook = await startTestBrook(upstream.url, { MODELS: file });
      url = await brook.listen(0);
      return [removeDir, failing, upstream, brook];
    },
  });

  it("offers the models Brook routes to, sends the one chosen, and names the fallback that answered", async () => {
    const opened = await chromium.open(url);
    const { page } = opened;
    try {
      // The default model's server fails before its first token: the fallback answers, and says so.
      await send(page, "Hi");
      await waitForAnswer(page);
      expect(await answers(page).last().textContent()).toContain("Answered.");
      expect(await answers(page).last().locator('[data-testid="usage"]').textContent()).toContain("local");
      expect(failing.requests).toHaveLength(1);

      await page.getByRole("button", { name: "Settings" }).click();
      const dialog = page.getByRole("dialog", { name: "Settings" });
      const field = dialog.getByLabel("Model", { exact: true });
      expect(await field.getAttribute("placeholder")).toBe("main (default)");
      const options = dialog.locator('[data-testid="model-options"] option');
      await options.first().waitFor({ state: "attached" });
      expect(
        await options.evaluateAll((nodes) => nodes.map((node) => (node as unknown as { value: string }).value)),
      ).toEqual(["main", "local"]);
      await field.fill("local");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.waitFor({ state: "hidden" });
      await send(page, "Hello");
      await waitForAnswer(page);
      expect(await answers(page).last().textContent()).toContain("Answered.");
      expect(upstream.requests.at(-1)?.body.model).toBe("upstream-local");
      expect(await answers(page).last().locator('[data-testid="usage"]').textContent()).toContain("local");
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
