import { fileURLToPath } from "node:url";
import { routes } from "@brook/shared";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";

const webRoot = fileURLToPath(new URL("../packages/web/", import.meta.url));

/** `pnpm dev:web`: the UI's dev server, with its proxy to a running Brook. */
describe("the web UI's dev server", () => {
  let harness: Harness;
  let vite: ViteDevServer;
  let viteUrl: string;

  beforeAll(async () => {
    harness = await startHarness({}, { text: "through the proxy" });
    process.env.BROOK_URL = harness.url;
    vite = await createServer({
      root: webRoot,
      configFile: `${webRoot}vite.config.ts`,
      logLevel: "silent",
      server: { port: 0 },
    });
    await vite.listen();
    viteUrl = vite.resolvedUrls?.local[0]?.replace(/\/$/, "") ?? "";
  });
  afterAll(async () => {
    delete process.env.BROOK_URL;
    await vite?.close();
    await harness?.close();
  });

  it("forwards every API route of Brook's route list, and serves the page itself", async () => {
    for (const route of Object.values(routes)) {
      if ("page" in route) continue;
      const method = "GET" in route.methods ? "GET" : "POST";
      const path = route.path === routes.trpc.path ? `${route.path}/health` : route.path;
      const viaVite = await fetch(`${viteUrl}${path}`, { method, ...(method === "POST" ? { body: "{}" } : {}) });
      const direct = await fetch(`${harness.url}${path}`, { method, ...(method === "POST" ? { body: "{}" } : {}) });
      expect(viaVite.status, path).toBe(direct.status);
      expect(viaVite.headers.get("content-type"), path).toBe(direct.headers.get("content-type"));
    }
    const page = await fetch(`${viteUrl}/`, { headers: { accept: "text/html" } });
    expect(await page.text()).toContain('<div id="root">');
  });

  it("streams an answer through the proxy", async () => {
    const response = await fetch(`${viteUrl}${routes.chatStream.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(await response.text()).toContain('"full_content":"through the proxy"');
  });
});
