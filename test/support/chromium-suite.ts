/** The setup every browser test block shares: one Chromium, the servers it talks to, pages checked for errors. */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { ensureWebBuild, launchChromium, type OpenedPage, openPage } from "./browser.js";

interface Closable {
  close(): Promise<unknown>;
}

export interface ChromiumSuiteOptions {
  /** Brings up the servers the block's tests use (before all of them); what it returns is closed after them, last first. */
  start?: () => Promise<Closable | readonly Closable[]>;
  /** Build the web UI first, when its build is stale (default true; a block that serves another page says false). */
  webUi?: boolean;
  /** A console error a test provokes on purpose, left out of the check that pages logged none. */
  expectedError?: (error: string) => boolean;
}

export interface ChromiumSuite {
  /**
   * Opens `url` in a fresh browser context (see openPage). The page is closed after the test (a test
   * may close it sooner), and the test fails if it logged a console error or threw.
   */
  open(url: string, options?: Parameters<typeof openPage>[2]): Promise<OpenedPage>;
}

/** Registers, in the current describe block, the hooks that launch Chromium with `start`'s servers and check each page. */
export function chromiumSuite({ start, webUi = true, expectedError }: ChromiumSuiteOptions = {}): ChromiumSuite {
  let browser: Browser | undefined;
  let servers: readonly Closable[] = [];
  let pages: OpenedPage[] = [];

  beforeAll(async () => {
    if (webUi) ensureWebBuild();
    const [launched, started] = await Promise.all([launchChromium(), start?.()]);
    browser = launched;
    servers = started === undefined ? [] : Array.isArray(started) ? started : [started as Closable];
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    for (const server of [...servers].reverse()) await server.close();
  });
  afterEach(async () => {
    const opened = pages;
    pages = [];
    for (const page of opened) await page.close();
    const errors = opened.flatMap((page) => page.errors);
    expect(expectedError === undefined ? errors : errors.filter((error) => !expectedError(error))).toEqual([]);
  });

  return {
    async open(url, options) {
      if (browser === undefined) throw new Error("Chromium is not running: open pages inside a test");
      const opened = await openPage(browser, url, options);
      // Closing twice (the test, then the hook) is harmless: Playwright ignores the second.
      pages.push(opened);
      return opened;
    },
  };
}
