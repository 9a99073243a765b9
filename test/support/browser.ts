import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { isStale, markBuilt, packageBuild } from "../../scripts/package-builds.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const artifactsDir = join(root, "test", "artifacts", "web-ui");

/**
 * Builds the web UI when this checkout has no build of its current sources: none yet, or one older
 * than a change to the UI or to the packages it bundles (the same stamp `pnpm start` reads).
 */
export function ensureWebBuild(): void {
  const web = packageBuild("@brook/web");
  if (!isStale(web)) return;
  const startedAt = Date.now();
  // As `pnpm build` would: the test runner's NODE_ENV=test would make Vite bundle React's development build.
  execFileSync("pnpm", ["--filter", "@brook/web", "run", "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
  markBuilt(web, startedAt);
}

const systemChromium = "/usr/bin/chromium";

/**
 * The Chromium to drive: `CHROMIUM_PATH`, else the system's, else the one the npm package
 * `@sparticuz/chromium` ships (unpacked to /tmp on first use), so a machine with only Node runs
 * the browser tests too.
 */
async function chromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(systemChromium)) return systemChromium;
  const { default: packaged } = await import("@sparticuz/chromium");
  return packaged.executablePath();
}

/** Chromium, headless, with everything that would reach the network switched off. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Saves a screenshot as test/artifacts/web-ui/NAME.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A page in a fresh browser context (its own localStorage, optionally seeded), watching for console errors. */
export async function openPage(
  browser: Browser,
  url: string,
  { storage, ...options }: BrowserContextOptions & { storage?: Record<string, string> } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  if (storage !== undefined) {
    // Seeds localStorage before the app's scripts run, on the first load only (the app writes there too).
    await context.addInitScript(`if (sessionStorage.getItem("test:seeded") === null) {
      sessionStorage.setItem("test:seeded", "yes");
      for (const [key, value] of Object.entries(${JSON.stringify(storage)})) localStorage.setItem(key, value);
    }`);
  }
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return {
    page,
    errors,
    async screenshot(name) {
      mkdirSync(artifactsDir, { recursive: true });
      await page.screenshot({ path: join(artifactsDir, `${name}.png`) });
    },
    close: () => context.close(),
  };
}
