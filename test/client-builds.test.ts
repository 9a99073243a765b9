import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { ensureWebBuild } from "./support/browser.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const testDir = join(root, "test");
const run = promisify(execFile);

/** Runs an ES module script with this Node from test/ (where `@brook/client` is the built package); its JSON lines. */
async function runScript(script: string, env: Record<string, string>, conditions: string[] = []): Promise<unknown[]> {
  const args = [...conditions.map((condition) => `--conditions=${condition}`), "--input-type=module", "-e", script];
  const { stdout } = await run(process.execPath, args, { cwd: testDir, env: { ...process.env, ...env } });
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

const streamScript = `
import { EventSource } from "eventsource";
import { createBrookClient } from "@brook/client";
const resolved = import.meta.resolve("@brook/client");
let client;
try {
  client = createBrookClient({ url: process.env.BROOK_URL });
} catch (error) {
  // Where no EventSource is found, one can be given.
  console.log(JSON.stringify({ refused: error.message }));
  client = createBrookClient({ url: process.env.BROOK_URL, EventSource });
}
const types = [];
let text = "";
for await (const event of client.streamChat({ message: "from the build" })) {
  types.push(event.type);
  if (event.type === "content") text += event.chunk;
}
console.log(JSON.stringify({ resolved, types: [...new Set(types)], text }));
`;

describe("@brook/client as built (dist)", () => {
  let harness: Harness;
  beforeAll(async () => {
    // The packages as `pnpm build` builds them: the client's dist and the shared one it imports.
    execFileSync(
      "pnpm",
      ["--filter", "@brook/shared", "--filter", "@brook/server", "--filter", "@brook/client", "build"],
      {
        cwd: root,
        stdio: "pipe",
      },
    );
    harness = await startHarness({}, { text: "Streamed to the built client." });
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it("streams in Node with the eventsource package", async () => {
    const lines = await runScript(streamScript, { BROOK_URL: harness.url });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      resolved: expect.stringMatching(/packages\/client\/dist\/index\.js$/),
      types: ["start", "content", "complete"],
      text: "Streamed to the built client.",
    });
  });

  it("takes no Node EventSource under the browser condition: it uses the page's (here, the one given)", async () => {
    const [refusal, result] = await runScript(streamScript, { BROOK_URL: harness.url }, ["browser"]);
    // No global EventSource in Node, and the browser build brings none of its own.
    expect(refusal).toEqual({ refused: expect.stringContaining("No EventSource here") });
    expect(result).toMatchObject({ types: ["start", "content", "complete"], text: "Streamed to the built client." });
  });
});

describe("the web UI's build", () => {
  it("does not contain Node's eventsource package", () => {
    ensureWebBuild();
    // Strings of the eventsource package's own code (checked here, so a new version cannot make this test pass vacuously).
    const clientRequire = createRequire(join(root, "packages", "client", "package.json"));
    const eventSourceCode = readFileSync(clientRequire.resolve("eventsource"), "utf8");
    const markers = ["eventsource.supports-fetch-override", "Server sent HTTP 204, not reconnecting"];
    for (const marker of markers) expect(eventSourceCode).toContain(marker);

    const assets = join(root, "packages", "web", "dist", "assets");
    const scripts = readdirSync(assets).filter((name) => name.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const code = readFileSync(join(assets, name), "utf8");
      for (const marker of markers) expect(code.includes(marker), `${name} contains "${marker}"`).toBe(false);
    }
  });
});
