// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
/** The web UI's Thinking block for reasoning models, in headless Chromium. */
import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { answers, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";

const thoughts = Array.from({ length: 12 }, (_, index) => `Thought ${index + 1} about the question. `);

/**
 * Runs in the page: while the last answer's Thinking block is thinking, records every 20 ms how
 * much reasoning it shows, whether it is open and whether an answer is shown; returns the samples.
 */
const samplingScript = `new Promise((resolve) => {
  const seen = [];
  const timer = setInterval(() => {
    const answer = [...document.querySelectorAll('[data-role="assistant"]')].at(-1);
    const block = answer?.querySelector('[data-testid="thinking"]');
    if (answer?.getAttribute("data-status") !== "streaming" || (block && block.getAttribute("data-state") !== "thinking")) {
      clearInterval(timer);
      resolve(seen);
    } else if (block) {
      seen.push({
        length: block.querySelector('[data-testid="reasoning"]').textContent.length,
        open: block.open,
        answer: answer.querySelector('[data-testid="answer"]') !== null,
      });
    }
  }, 20);
})`;

interface Sample {
  length: number;
  open: boolean;
  answer: boolean;
}

/** Whether a `<details>` element is open (its `open` attribute follows the reader's clicks). */
async function isOpen(details: Locator): Promise<boolean> {
  return (await details.getAttribute("open")) !== null;
}

describe("web UI: the Thinking block of reasoning models", () => {
  let harness: Harness;
  const chromium = chromiumSuite({ start: async () => (harness = await startHarness()) });

  it("streams the thinking, collapses it when the answer starts, opens it again, and keeps it across a reload", async () => {
    harness.upstream.enqueue({
      reasoning: thoughts,
      text: "The answer is 42.",
      delayMs: 80,
      usage: { prompt_tokens: 20, completion_tokens: 16, reasoning_tokens: 12 },
    });
    const opened = await chromium.open(harness.url);
    const { page } = opened;
    await send(page, "Think: what is the answer?");

    const block = answers(page).last().locator('[data-testid="thinking"]');
    await block.waitFor();
    expect(await block.getAttribute("data-state")).toBe("thinking");
    await until(async () =>
      (await block.locator('[data-testid="thinking-label"]').innerText()).startsWith("Thinking…"),
    );
    await opened.screenshot("thinking-light-wide");

    // While the model thinks: the block is open, its text grows in several steps, no answer yet.
    const samples: Sample[] = await page.evaluate(samplingScript);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((sample) => sample.open && !sample.answer)).toBe(true);
    const lengths = [...new Set(samples.map((sample) => sample.length))];
    expect(lengths.length).toBeGreaterThanOrEqual(3);

    // The answer started: the block closed by itself and says how long the model thought.
    await waitForAnswer(page);
    const answer = answers(page).last();
    expect(await answer.locator('[data-testid="answer"]').innerText()).toBe("The answer is 42.");
    expect(await block.getAttribute("data-state")).toBe("done");
    expect(await isOpen(block)).toBe(false);
    expect(await block.locator("summary").innerText()).toMatch(/^Thought for \d+(\.\d+)? m?s\s+12 tokens$/);
    // Thinking is not the answer: Copy takes the answer alone.
    await answer.getByRole("button", { name: "Copy", exact: true }).click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("The answer is 42.");

    // A click opens it again, with the whole thinking.
    await block.locator("summary").click();
    expect(await isOpen(block)).toBe(true);
    expect(await block.locator('[data-testid="reasoning"]').innerText()).toBe(thoughts.join(""));
    await opened.screenshot("thought-open-light-wide");

    // The next turn sends the answer as history, never the thinking.
    harness.upstream.enqueue({ text: "Second answer." });
    await send(page, "And then?");
    await until(async () => (await answers(page).count()) === 2);
    await waitForAnswer(page);
    const history = harness.upstream.requests.at(-1)?.body.messages.slice(-3);
    expect(history).toEqual([
      { role: "user", content: "Think: what is the answer?" },
      { role: "assistant", content: "The answer is 42." },
      { role: "user", content: "And then?" },
    ]);
    // An answer without thinking has no Thinking block.
    expect(await answers(page).last().locator('[data-testid="thinking"]').count()).toBe(0);

    // Kept with the conversation: after a reload, closed, with its time, and it opens.
    await page.reload();
    await until(async () => (await answers(page).count()) === 2);
    const restored = answers(page).first().locator('[data-testid="thinking"]');
    await restored.waitFor();
    expect(await isOpen(restored)).toBe(false);
    expect(await restored.locator('[data-testid="thinking-label"]').innerText()).toMatch(/^Thought for /);
    await restored.locator("summary").click();
    expect(await restored.locator('[data-testid="reasoning"]').innerText()).toBe(thoughts.join(""));
  });

  it("shows the thinking of a run stopped while the model was still thinking", async () => {
    harness.upstream.enqueue({ reasoning: thoughts, text: "Never shown.", delayMs: 200 });
    const opened = await chromium.open(harness.url, { colorScheme: "dark" });
    const { page } = opened;
    await send(page, "Think slowly");
    const block = answers(page).last().locator('[data-testid="thinking"]');
    await until(async () => (await block.count()) === 1 && (await block.innerText()).includes("Thought 2"));
    await opened.screenshot("thinking-dark-wide");
    await page.getByRole("button", { name: "Stop" }).click();
    await answers(page).last().locator('[data-testid="stopped"]').waitFor();
    expect(await block.getAttribute("data-state")).toBe("done");
    expect(await block.locator('[data-testid="thinking-label"]').innerText()).toMatch(/^Thought for /);
    expect(await answers(page).last().locator('[data-testid="answer"]').count()).toBe(0);
    await harness.upstream.waitIdle();
  });
});
