// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() follows the layout
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Harness, startDemoBrook, startHarness, until } from "./support/brook-harness.js";
import type { OpenedPage } from "./support/browser.js";
import { answers, composer, send, waitForAnswer } from "./support/chat-page.js";
import { chromiumSuite } from "./support/chromium-suite.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { startTcpProxy } from "./support/tcp-proxy.js";
import { fakeTokens } from "./support/trpc-reader.js";

const answerMarkdown = [
  "Here is **a short answer** with code:\n\n",
  "```ts\n",
  "const greeting: string = 'hello';\n",
  "console.log(greeting);\n",
  "```\n\n",
  "And a list:\n\n",
  "- first\n",
  "- second\n",
];

/**
 * Runs in the page: records the text of `part` of the last answer every 20 ms while it streams,
 * then returns the samples (sampling inside the page sees every repaint, whatever the test
 * process is doing).
 */
const samplingScript = (part: string) => `new Promise((resolve) => {
  const seen = [];
  const timer = setInterval(() => {
    const answer = [...document.querySelectorAll('[data-role="assistant"]')].at(-1);
    if (answer?.getAttribute("data-status") !== "streaming") {
      clearInterval(timer);
      resolve(seen);
    } else {
      seen.push(answer.querySelector(${JSON.stringify(part)})?.textContent ?? "");
    }
  }, 20);
})`;

/** Samples of a part that filled in over several repaints: at least three different, the last longer than the first. */
function expectFilledInSteps(samples: readonly string[]): void {
  const distinct = [...new Set(samples.filter((sample) => sample !== ""))];
  expect(distinct.length).toBeGreaterThanOrEqual(3);
  expect(distinct[0]?.length).toBeLessThan(distinct.at(-1)?.length ?? 0);
}

/** What the page functions below use of a DOM element (these types know no DOM). */
interface PageElement {
  scrollWidth: number;
  clientWidth: number;
  offsetWidth: number;
  getBoundingClientRect(): { height: number; right: number };
  ownerDocument: { defaultView: { getComputedStyle(element: PageElement): { lineHeight: string } } };
}

/** In the page: how far an element's content runs past its box sideways (0 or less: it fits). */
const overflow = (element: PageElement) => element.scrollWidth - element.clientWidth;
/** In the page: the width of an element's left and right borders (and of a scroll bar, if any). */
const borders = (element: PageElement) => element.offsetWidth - element.clientWidth;
/** In the page: how many lines of text an element takes. */
const lines = (element: PageElement) =>
  Math.round(
    element.getBoundingClientRect().height /
      Number.parseFloat(element.ownerDocument.defaultView.getComputedStyle(element).lineHeight),
  );

/**
 * In the page: scrolled to its end, how far the first line of a code block's body ends before the
 * body's inner right edge.
 */
const endGap = (body: PageElement) => {
  const scroller = body as unknown as {
    scrollLeft: number;
    clientLeft: number;
    ownerDocument: {
      createRange(): { selectNodeContents(node: unknown): void; getClientRects(): { right: number }[] };
    };
    querySelector(selector: string): unknown;
  };
  scroller.scrollLeft = body.scrollWidth;
  const range = scroller.ownerDocument.createRange();
  range.selectNodeContents(scroller.querySelector("pre code > span"));
  const text = [...range.getClientRects()].at(-1);
  return body.getBoundingClientRect().right - scroller.clientLeft - (text?.right ?? 0);
};

describe("web UI in headless Chromium", () => {
  let harness: Harness;
  // Every test ends with pages that logged no error.
  const chromium = chromiumSuite({ start: async () => (harness = await startHarness()) });
  /** The page the test opened last, for its screenshots. */
  let opened: OpenedPage | undefined;

  async function open(options: Parameters<typeof chromium.open>[1] = {}): Promise<Page> {
    opened = await chromium.open(harness.url, options);
    return opened.page;
  }

  it("serves the app to browsers at / and keeps JSON for other clients", async () => {
    const json = await fetch(`${harness.url}/`, { headers: { accept: "application/json" } });
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await json.json()).toMatchObject({ name: "Brook", status: "running" });

    const page = await open();
    expect(await page.title()).toBe("Brook");
    await composer(page).waitFor();
    // Ready to type at once.
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe("Message");
    const asset = (await page.locator("script[src]").getAttribute("src")) ?? "";
    expect(asset).toMatch(/^\/assets\/.+\.js$/);
    const script = await fetch(`${harness.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toContain("immutable");
    await script.arrayBuffer();
    const missing = await fetch(`${harness.url}/assets/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found" });
  });

  it("streams the answer progressively as Markdown, then shows usage and timing", async () => {
    harness.upstream.enqueue({
      text: answerMarkdown.join(""),
      delayMs: 60,
      usage: { prompt_tokens: 42, completion_tokens: 17 },
    });
    const page = await open();
    await send(page, "Show me some code");
    expect(await page.locator('[data-role="user"]').innerText()).toBe("Show me some code");
    await page.getByRole("button", { name: "Stop" }).waitFor();

    const answer = answers(page).last();
    // Sample the answer in the page while it streams: it must grow in several steps.
    expectFilledInSteps(await page.evaluate(samplingScript('[data-testid="answer"]')));

    await waitForAnswer(page);
    await opened?.screenshot("answer-light-wide");
    // Markdown, not raw text: bold, a highlighted code block, a list.
    expect(await answer.locator('[data-streamdown="strong"]').first().innerText()).toBe("a short answer");
    await answer.locator("pre code span[style*='--shiki-dark']").first().waitFor();
    expect(await answer.locator("pre").innerText()).toContain("console.log(greeting);");
    expect(await answer.locator("li").allInnerTexts()).toEqual(["first", "second"]);
    expect(await answer.innerText()).not.toContain("```");

    const usage = await answer.locator('[data-testid="usage"]').innerText();
    expect(usage).toContain("42 in");
    expect(usage).toContain("17 out");
    expect(usage).toMatch(/\$\d/);
    expect(usage).toMatch(/TTFT \d+(\.\d+)? m?s/);
    expect(usage).toMatch(/\d+(\.\d)? tok\/s/);
    expect(usage).toContain("gpt-4o-mini");

    // The Send button is back, and Copy puts the Markdown on the clipboard.
    await page.getByRole("button", { name: "Send" }).waitFor();
    await answer.getByRole("button", { name: "Copy", exact: true }).click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(answerMarkdown.join(""));
  });

  it("loads the code highlighter only once an answer has a code block", async () => {
    harness.upstream.enqueue({ text: "No code in this one." }, { chunks: answerMarkdown });
    opened = await chromium.open(harness.url);
    const { page } = opened;
    await composer(page).waitFor();
    await page.waitForLoadState("networkidle");
    const assets: string[] = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith("/assets/")) assets.push(path);
    });

    await send(page, "Answer in plain words");
    await waitForAnswer(page);
    expect(assets).toEqual([]);

    await send(page, "Now with code");
    await until(async () => (await answers(page).count()) === 2);
    await answers(page).last().locator("pre code span[style*='--shiki-dark']").first().waitFor();
    // The highlighter came with the block, and with it the grammar of its language only.
    expect(assets.some((path) => /^\/assets\/typescript-[\w-]+\.js$/.test(path))).toBe(true);
    expect(assets.some((path) => /^\/assets\/(python|rust|cpp)-/.test(path))).toBe(false);
  });

  it("Stop aborts the model call and keeps the partial answer, marked as stopped", async () => {
    harness.upstream.enqueue({ tokens: 400, delayMs: 50 });
    const abortedBefore = harness.upstream.abortedCount();
    const page = await open();
    await send(page, "Count for a long time");
    const answer = answers(page).last();
    await until(async () => (await answer.innerText()).includes("tok5"), 10_000);
    expect(harness.upstream.openStreams()).toBe(1);
    await opened?.screenshot("streaming-light-wide");

    await page.getByRole("button", { name: "Stop" }).click();
    await until(() => harness.upstream.abortedCount() === abortedBefore + 1, 5_000);
    await harness.upstream.waitIdle();
    await answer.locator('[data-testid="stopped"]').waitFor();
    await page.getByRole("button", { name: "Send" }).waitFor();

    const partial = await answer.innerText();
    expect(partial).toContain("tok0 tok1");
    expect(partial).not.toContain("tok399");
    await page.waitForTimeout(300);
    expect(await answer.innerText()).toBe(partial);

    // What the stopped answer used, as its cancelled event reported it: that is what was paid for.
    const usage = await answer.locator('[data-testid="usage"]').innerText();
    const [, input, output] = /(\d+) in[\s\S]*?(\d+) out/.exec(usage) ?? [];
    expect(Number(input)).toBeGreaterThan(0);
    expect(Number(output)).toBeGreaterThan(0);
    expect(usage).toMatch(/\$\d/);
    expect(await answer.locator('[data-testid="stopped"]').isVisible()).toBe(true);
    await opened?.screenshot("stopped-light-wide");
  });

  it("goes on with an answer after a reload, where it was, without calling the model again", async () => {
    harness.upstream.enqueue({ tokens: 60, delayMs: 40 });
    const requestsBefore = harness.upstream.requests.length;
    const page = await open();
    await send(page, "Keep going through a reload");
    await until(async () => (await answers(page).last().innerText()).includes("tok5"), 10_000);

    await page.reload();
    const answer = answers(page).last();
    // It goes on (it is not marked stopped), to its end.
    await waitForAnswer(page);
    expect(await answer.getAttribute("data-status")).toBe("done");
    // Every piece once: nothing lost at the reload, nothing repeated.
    expect(await answer.locator('[data-testid="answer"]').innerText()).toBe(fakeTokens(60));
    expect(harness.upstream.requests.length).toBe(requestsBefore + 1);
    expect(await answer.locator('[data-testid="stopped"]').count()).toBe(0);

    // Once complete it stays so across reloads.
    await page.reload();
    await answers(page).last().locator('[data-testid="usage"]').waitFor();
    expect(await answers(page).last().getAttribute("data-status")).toBe("done");
    expect(harness.upstream.requests.length).toBe(requestsBefore + 1);
  });

  it("sends the history with the second turn, and keeps the conversation across a reload", async () => {
    harness.upstream.enqueue({ text: "Paris is the capital of France." }, { text: "About 2.1 million people." });
    const page = await open({ colorScheme: "dark" });
    await send(page, "What is the capital of France?");
    await waitForAnswer(page);

    // Shift+Enter adds a line; Enter sends.
    await composer(page).fill("How many people");
    await composer(page).press("Shift+Enter");
    await composer(page).pressSequentially("live there?");
    await composer(page).press("Enter");
    await until(async () => (await answers(page).count()) === 2);
    await waitForAnswer(page);

    const request = harness.upstream.requests.at(-1)?.body;
    expect(request.messages.slice(-3)).toEqual([
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris is the capital of France." },
      { role: "user", content: "How many people\nlive there?" },
    ]);
    await opened?.screenshot("two-turns-dark-wide");

    await page.reload();
    await until(async () => (await answers(page).count()) === 2);
    expect(await page.locator('[data-role="user"]').allInnerTexts()).toEqual([
      "What is the capital of France?",
      "How many people\nlive there?",
    ]);
    expect(await answers(page).last().innerText()).toContain("About 2.1 million people.");
    await answers(page).last().locator('[data-testid="usage"]').waitFor();

    // New chat empties the view; the list of conversations brings this one back.
    await page.getByRole("button", { name: "New chat" }).click();
    expect(await answers(page).count()).toBe(0);
    const past = page.getByRole("navigation", { name: "Conversations" }).getByRole("button", {
      name: /^What is the capital of France\?/,
    });
    await past.click();
    await until(async () => (await answers(page).count()) === 2);
  });

  it("shows an error where it happened and retries it", async () => {
    harness.upstream.enqueue(
      { status: 500, errorMessage: "the model server fell over" },
      { text: "Second try worked." },
    );
    const page = await open();
    await send(page, "Please fail once");
    const alert = answers(page).last().getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/model server/i);
    await opened?.screenshot("error-light-wide");

    await alert.getByRole("button", { name: "Retry" }).click();
    await waitForAnswer(page);
    expect(await answers(page).count()).toBe(1);
    expect(await answers(page).last().innerText()).toContain("Second try worked.");
    // The retry asked the same question again.
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({
      role: "user",
      content: "Please fail once",
    });
  });

  it("regenerates the last answer", async () => {
    harness.upstream.enqueue({ text: "First version." }, { text: "Second version." });
    const page = await open();
    await send(page, "Say something");
    await waitForAnswer(page);
    await answers(page).last().getByRole("button", { name: "Regenerate" }).click();
    await until(async () => (await answers(page).last().innerText()).includes("Second version."));
    await waitForAnswer(page);
    expect(await answers(page).count()).toBe(1);
    expect(harness.upstream.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: "user", content: "Say something" });
  });

  it("sends the system prompt, model and temperature from the settings", async () => {
    harness.upstream.enqueue({ text: "Arr." }, { text: "Arr again." });
    const page = await open();
    await page.getByRole("button", { name: "Settings" }).click();
    const dialog = page.getByRole("dialog", { name: "Settings" });
    await dialog.getByLabel("System prompt").fill("You are a pirate.");
    await dialog.getByLabel("Model", { exact: true }).fill("pirate-model");

    // No temperature is chosen yet: the model's default is the chosen option, and no slider shows a value.
    const temperature = dialog.getByRole("radiogroup", { name: "Temperature" });
    expect(await temperature.getByRole("radio", { name: "Model default" }).isChecked()).toBe(true);
    expect(await dialog.getByRole("slider").count()).toBe(0);
    await opened?.screenshot("settings-default-temperature-light-wide");
    await temperature.getByRole("radio", { name: "Custom" }).check();
    await dialog.getByRole("slider", { name: "Temperature" }).fill("0.3");
    expect(await dialog.locator("output").innerText()).toBe("0.3");
    await opened?.screenshot("settings-light-wide");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });

    await send(page, "Hello");
    await waitForAnswer(page);
    const body = harness.upstream.requests.at(-1)?.body;
    expect(body.model).toBe("pirate-model");
    expect(body.temperature).toBe(0.3);
    expect(body.messages[0]).toEqual({ role: "system", content: "You are a pirate." });

    // Settings are kept across reloads.
    await page.reload();
    await page.getByRole("button", { name: "Settings" }).click();
    expect(await dialog.getByLabel("Model", { exact: true }).inputValue()).toBe("pirate-model");
    expect(await temperature.getByRole("radio", { name: "Custom" }).isChecked()).toBe(true);
    expect(await dialog.getByRole("slider", { name: "Temperature" }).inputValue()).toBe("0.3");

    // Back to the model's default: the slider goes, and no temperature is sent.
    await temperature.getByRole("radio", { name: "Model default" }).check();
    expect(await dialog.getByRole("slider").count()).toBe(0);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await send(page, "Hello again");
    await until(async () => (await answers(page).count()) === 2);
    await waitForAnswer(page);
    expect(harness.upstream.requests.at(-1)?.body).not.toHaveProperty("temperature");
  });

  it("asks for a typed answer from the settings and shows it as formatted JSON while it fills in, kept across a reload", async () => {
    const schema = {
      type: "object",
      properties: { city: { type: "string" }, population: { type: "integer" } },
      required: ["city", "population"],
    };
    // No text queued: the fake model answers with an instance of the schema, in 3-character pieces.
    harness.upstream.enqueue({ delayMs: 40 });
    const page = await open();
    await page.getByRole("button", { name: "Settings" }).click();
    const dialog = page.getByRole("dialog", { name: "Settings" });
    const format = dialog.getByLabel("Answer format: JSON Schema");

    // Not JSON, or not an object's schema: said where it is typed, and Save keeps the dialog open.
    await format.fill('{ "type": "object", ');
    expect(await dialog.getByRole("alert").innerText()).toContain("Not valid JSON");
    await dialog.getByRole("button", { name: "Save" }).click();
    expect(await dialog.isVisible()).toBe(true);
    await format.fill('{ "type": "string" }');
    expect(await dialog.getByRole("alert").innerText()).toContain("JSON Schema of an object");
    await format.fill(JSON.stringify(schema, null, 2));
    expect(await dialog.getByRole("alert").count()).toBe(0);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });

    await send(page, "Which city?");
    await page.getByRole("button", { name: "Stop" }).waitFor();
    // Sample the JSON view in the page while it streams: it fills in over several repaints.
    expectFilledInSteps(await page.evaluate(samplingScript('[data-testid="answer-object"] pre')));
    await waitForAnswer(page);

    const body = harness.upstream.requests.at(-1)?.body;
    expect(body.response_format).toMatchObject({ type: "json_schema", json_schema: { schema } });
    const value = { city: 'the city "quoted", then more words', population: 12345 };
    const expectShown = async () => {
      const answer = answers(page).last();
      // Pretty-printed, in a code block, not the raw text as prose.
      const shown = answer.locator('[data-testid="answer-object"] pre');
      expect((await shown.innerText()).trim()).toBe(JSON.stringify(value, null, 2));
      expect(await answer.locator('[data-testid="answer"]').count()).toBe(0);
      // The text the model wrote is there, folded away.
      const raw = answer.locator('[data-testid="raw-text"]');
      expect(await raw.evaluate((details) => (details as unknown as { open: boolean }).open)).toBe(false);
      expect(await raw.locator("summary").innerText()).toBe("Raw text");
      expect(await raw.locator("pre").isVisible()).toBe(false);
      return raw;
    };
    const raw = await expectShown();
    await raw.locator("summary").click();
    expect(await raw.locator("pre").innerText()).toBe(JSON.stringify(value));
    await opened?.screenshot("typed-answer-light-wide");

    // The stored conversation keeps the object.
    await page.reload();
    await answers(page).last().locator('[data-testid="usage"]').waitFor();
    await expectShown();
  });

  it("shows the service statistics, per model", async () => {
    harness.upstream.enqueue({ text: "Counted." });
    const page = await open();
    await send(page, "Count this request");
    await waitForAnswer(page);
    await page.getByRole("button", { name: "Statistics" }).click();
    const stats = page.getByRole("dialog", { name: "Usage statistics" }).locator('[data-testid="stats"]');
    await stats.locator('[data-testid="chart-requests"]').waitFor();
    const text = await stats.innerText();
    expect(text).toMatch(/Requests\s*[1-9]/);
    expect(text).toContain("gpt-4o-mini");

    // Charts of the numbers: requests and tokens as sampled while the page was open, and the
    // spread of the time to first token.
    const service = (await (await fetch(`${harness.url}/stats`)).json()) as {
      requests: { total: number };
      ttft_ms: { p50: number | null; p90: number | null; p99: number | null };
    };
    const requests = stats.locator('[data-testid="chart-requests"]');
    await requests.locator("svg path").first().waitFor();
    expect(await requests.locator("figcaption").innerText()).toContain(String(service.requests.total));
    // A line through at least two samples: the page's first, and the one taken when the dialog opened.
    const line = (await requests.locator("svg path").nth(1).getAttribute("d")) ?? "";
    expect(line).toMatch(/^M[\d.]+ [\d.]+ H[\d.]+ V[\d.]+/);
    expect(await stats.locator('[data-testid="chart-tokens"] svg path').count()).toBe(2);
    const ttft = stats.locator('[data-testid="chart-ttft"]');
    expect(await ttft.locator("dt").allInnerTexts()).toEqual(["p50", "p90", "p99"]);
    const widths = await ttft
      .locator('[data-testid="bar"]')
      .evaluateAll((bars) => bars.map((bar) => bar.getBoundingClientRect().width));
    expect(widths).toHaveLength(3);
    for (const width of widths) expect(width).toBeGreaterThan(0);
    // p99 is the longest time, so its bar is the longest.
    expect(service.ttft_ms.p99).not.toBeNull();
    expect(widths[2]).toBe(Math.max(...widths));
    await opened?.screenshot("stats-light-wide");
  });

  it("fits a 390 px screen: code blocks in one box that wraps, and the statistics with every column", async () => {
    const longLine =
      "const greeting: string = 'hello, this line is far longer than a phone is wide, so it has to wrap';";
    harness.upstream.enqueue({ text: `A long line:\n\n\`\`\`ts\n${longLine}\nconsole.log(greeting);\n\`\`\`\n` });
    const page = await open({ viewport: { width: 390, height: 844 }, isMobile: true });
    await send(page, "A long line of code, on a phone");
    await waitForAnswer(page);
    const block = answers(page).last().locator('[data-streamdown="code-block"]');
    await block.locator("pre code span[style*='--shiki-dark']").first().waitFor();
    // Nothing is wider than the screen, and no part of the block has to be scrolled sideways.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    for (const part of ['[data-streamdown="code-block"]', '[data-streamdown="code-block-body"]', "pre"]) {
      const element = part === '[data-streamdown="code-block"]' ? block : block.locator(part);
      expect(await element.evaluate(overflow), part).toBeLessThanOrEqual(0);
    }
    // The copy button floats over the header, not over the code.
    const copy = await block.getByRole("button", { name: "Copy Code" }).boundingBox();
    const code = await block.locator("pre").boundingBox();
    expect((copy?.y ?? 0) + (copy?.height ?? 0)).toBeLessThanOrEqual(code?.y ?? 0);
    // One box: the code's own area draws no second border inside the block's.
    expect(await block.locator('[data-streamdown="code-block-body"]').evaluate(borders)).toBe(0);
    expect(await block.locator("pre").innerText()).toContain("so it has to wrap';");
    await opened?.screenshot("code-light-narrow");

    await page.getByRole("button", { name: "Statistics" }).click();
    const stats = page.getByRole("dialog", { name: "Usage statistics" }).locator('[data-testid="stats"]');
    const models = stats.locator('[data-testid="models"]');
    // Once the charts are in, the dialog has its full width and height.
    await stats.locator('[data-testid="chart-ttft"]').waitFor();
    expect(await models.evaluate(overflow)).toBeLessThanOrEqual(0);
    expect(await models.locator("table").evaluate(overflow)).toBeLessThanOrEqual(0);
    // Every column is there to see, Cost included, within the table's box.
    const box = await models.boundingBox();
    const cost = await models.getByRole("columnheader", { name: "Cost" }).boundingBox();
    expect(cost).not.toBeNull();
    expect((cost?.x ?? 0) + (cost?.width ?? 0)).toBeLessThanOrEqual((box?.x ?? 0) + (box?.width ?? 0));
    expect(await models.innerText()).toMatch(/\$\d/);
    expect(await models.innerText()).toContain("gpt-4o-mini");
    expect(await stats.evaluate(overflow)).toBeLessThanOrEqual(0);
    await models.scrollIntoViewIfNeeded();
    await opened?.screenshot("stats-light-narrow");
  });

  it("code: the longest line keeps the padding at 1280 px; a URL wider than a phone scrolls rather than breaking", {
    timeout: 60_000,
  }, async () => {
    const longest = `curl -X POST "https://brook.example.com/chat/stream" ${"--header 'x-option: value' ".repeat(6)}--no-buffer`;
    const url = 'OPENAI_BASE_URL="http://127.0.0.1:11434/v1/some/long/path/with/no/spaces/in/it/at/all"';
    const answer = { text: `Try:\n\n\`\`\`bash\n${longest}\nexport ${url}\n\`\`\`\n` };
    harness.upstream.enqueue(answer, answer);
    const wide = await open({ viewport: { width: 1280, height: 800 } });
    await send(wide, "A wide line of code");
    await waitForAnswer(wide);
    const body = answers(wide).last().locator('[data-streamdown="code-block-body"]');
    await body.locator("pre code span[style*='--shiki-dark']").first().waitFor();
    expect(await body.evaluate(overflow)).toBeGreaterThan(0);
    // Scrolled to its end, the longest line ends the padding's width (0.75rem) before the box does.
    const gap = await body.evaluate(endGap);
    expect(gap).toBeGreaterThanOrEqual(11);
    await opened?.close();

    const phone = await open({ viewport: { width: 390, height: 844 }, isMobile: true });
    await send(phone, "The same code on a phone");
    await waitForAnswer(phone);
    const narrow = answers(phone).last().locator('[data-streamdown="code-block-body"]');
    await narrow.locator("pre code span[style*='--shiki-dark']").first().waitFor();
    // The string token holding the URL is on one line: not cut at some letter to fit.
    const token = narrow.locator("pre code span span", { hasText: "11434" });
    expect(await token.evaluate((element) => element.getClientRects().length)).toBe(1);
    // The long line of words still wraps at its spaces.
    expect(await narrow.locator("pre code > span").first().evaluate(lines)).toBeGreaterThan(2);
    expect(await phone.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await opened?.screenshot("code-url-narrow");
  });

  it("is usable on a narrow screen in dark mode: the conversation list opens as a drawer", async () => {
    harness.upstream.enqueue({ chunks: answerMarkdown });
    const page = await open({ viewport: { width: 390, height: 844 }, colorScheme: "dark", isMobile: true });
    await send(page, "A phone-sized question");
    await waitForAnswer(page);
    await answers(page).last().locator("pre code span[style*='--shiki-dark']").first().waitFor();
    await opened?.screenshot("answer-dark-narrow");
    const list = page.getByRole("navigation", { name: "Conversations" });
    expect(await list.isVisible()).toBe(false);
    await page.getByRole("button", { name: "Conversations" }).click();
    await list.getByRole("button", { name: /^A phone-sized question/ }).waitFor();
    await opened?.screenshot("drawer-dark-narrow");
    await page.keyboard.press("Escape");
    await list.waitFor({ state: "hidden" });
  });

  it("resumes a dropped connection without calling the model again", async () => {
    const proxy = await startTcpProxy(Number(new URL(harness.url).port));
    try {
      harness.upstream.enqueue({ tokens: 40, delayMs: 60 });
      const requestsBefore = harness.upstream.requests.length;
      opened = await chromium.open(proxy.url());
      const page = opened.page;
      await send(page, "Keep going through a network hiccup");
      const answer = answers(page).last();
      await until(async () => (await answer.innerText()).includes("tok3"), 10_000);
      proxy.cutAll();
      await waitForAnswer(page);
      const text = await answer.innerText();
      expect(text).toContain(Array.from({ length: 40 }, (_, i) => `tok${i}`).join(" "));
      expect(harness.upstream.requests.length).toBe(requestsBefore + 1);
      // The browser reports the cut connection itself; nothing else may be logged.
      opened.errors.splice(0, opened.errors.length, ...opened.errors.filter((error) => !/net::ERR_/.test(error)));
    } finally {
      await opened?.close();
      await proxy.close();
    }
  });
});

describe("web UI in demo mode", () => {
  let demo: Awaited<ReturnType<typeof startDemoBrook>>;
  const chromium = chromiumSuite({ start: async () => (demo = await startDemoBrook()) });

  it("explains in a banner how to configure a real model", async () => {
    const opened = await chromium.open(demo.url);
    try {
      const banner = opened.page.getByRole("note").filter({ hasText: "Demo mode" });
      await banner.waitFor();
      const text = await banner.innerText();
      expect(text).toContain("OPENAI_API_KEY");
      expect(text).toContain("OPENAI_BASE_URL");
      await send(opened.page, "Hello demo");
      await waitForAnswer(opened.page);
      await opened.screenshot("demo-light-wide");
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it("answers with an instance of the answer format's schema, offline", async () => {
    const schema = {
      type: "object",
      properties: { title: { type: "string" }, done: { type: "boolean" } },
      required: ["title", "done"],
    };
    const opened = await chromium.open(demo.url, {
      storage: { "brook.settings": JSON.stringify({ outputSchema: JSON.stringify(schema) }) },
    });
    try {
      await send(opened.page, "A task, please");
      await waitForAnswer(opened.page);
      const shown = await answers(opened.page).last().locator('[data-testid="answer-object"] pre').innerText();
      expect(Object.keys(JSON.parse(shown))).toEqual(["title", "done"]);
      expect(await answers(opened.page).last().locator('[data-testid="raw-text"] summary').innerText()).toBe(
        "Raw text",
      );
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it("keeps the banner to a line or two on a 390 px screen", async () => {
    const opened = await chromium.open(demo.url, { viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const banner = opened.page.getByRole("note").filter({ hasText: "Demo mode" });
      await banner.waitFor();
      const text = await banner.innerText();
      expect(text).toContain("OPENAI_API_KEY");
      expect(text).toContain("OPENAI_BASE_URL");
      expect(await banner.locator("p").evaluate(lines)).toBeLessThanOrEqual(2);
      expect((await banner.boundingBox())?.height).toBeLessThanOrEqual(64);
      await opened.screenshot("demo-light-narrow");
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});

describe("web UI with MCP tools", () => {
  let mcp: McpTestServer;
  let harness: Harness;
  const chromium = chromiumSuite({
    start: async () => {
      mcp = await startMcpTestServer();
      harness = await startHarness({ MCP_URL: mcp.url });
      await untilConnected(harness.url);
      return [mcp, harness];
    },
  });

  it("shows each tool call as a collapsible card with its arguments and result or error", async () => {
    harness.upstream.enqueue(
      {
        toolCallDeltas: toolCallDeltas([
          { name: "add", arguments: '{"a":2,"b":3}' },
          { name: "fail", arguments: "{}" },
        ]),
      },
      // The model's second turn, once it has the tools' results.
      { afterTools: { text: "2 + 3 = **5**. The other tool failed." } },
    );
    const opened = await chromium.open(harness.url, { colorScheme: "dark" });
    try {
      const { page } = opened;
      await send(page, "Add 2 and 3, then try the failing tool");
      await waitForAnswer(page);
      expect(mcp.log.calls.map((call) => call.name).sort()).toEqual(["add", "fail"]);

      const cards = answers(page).last().locator('[data-testid="tool-card"]');
      expect(await cards.count()).toBe(2);
      const add = cards.filter({ hasText: "add" });
      const fail = cards.filter({ hasText: "fail" });
      expect(await add.getAttribute("data-state")).toBe("done");
      expect(await fail.getAttribute("data-state")).toBe("error");
      expect(await answers(page).last().locator('[data-testid="answer"]').innerText()).toContain("2 + 3 = 5.");

      // Collapsed until opened, by mouse or keyboard.
      expect(await add.getByText("Result").isVisible()).toBe(false);
      await add.locator("summary").click();
      await fail.locator("summary").press("Enter");
      expect(await add.locator("pre").first().innerText()).toBe('{\n  "a": 2,\n  "b": 3\n}');
      expect(await add.locator("pre").nth(1).innerText()).toBe("5");
      // The failed call reads as a failure: "Failed" in its summary, its message under "Error", not "Result".
      expect(await add.locator("summary").innerText()).toContain("Done");
      expect(await fail.locator("summary").innerText()).toContain("Failed");
      expect(await fail.locator("h4").allInnerTexts()).toEqual(["Arguments", "Error"]);
      expect(await fail.locator("pre").nth(1).innerText()).toContain("the disk is on fire");
      await opened.screenshot("tool-cards-dark-wide");

      // The cards are part of the stored conversation.
      await page.reload();
      await answers(page).last().locator('[data-testid="tool-card"]').nth(1).waitFor();
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
