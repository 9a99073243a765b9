import { readdirSync, readFileSync } from "node:fs";
import { get, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { init, parse } from "es-module-lexer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { ensureWebBuild } from "./support/browser.js";

const dist = fileURLToPath(new URL("../packages/web/dist/", import.meta.url));

/** What the page may download before the first message can be sent, gzip-compressed (300 kB). */
const upFrontBudgetBytes = 300_000;

/** The `/assets/…` files index.html names, by the way it names them. */
function namedByPage(html: string): { scripts: string[]; styles: string[] } {
  const attribute = (tag: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(tag)?.[1];
  const tags = html.match(/<(script|link)\b[^>]*>/g) ?? [];
  const scripts: string[] = [];
  const styles: string[] = [];
  for (const tag of tags) {
    if (tag.startsWith("<script") && tag.includes('type="module"')) scripts.push(attribute(tag, "src") ?? "");
    if (tag.includes('rel="modulepreload"')) scripts.push(attribute(tag, "href") ?? "");
    if (tag.includes('rel="stylesheet"')) styles.push(attribute(tag, "href") ?? "");
  }
  return { scripts: scripts.filter(Boolean), styles: styles.filter(Boolean) };
}

/** The scripts that load with `entries` before any of their code runs: they and their static imports, transitively. */
function staticGraph(entries: string[]): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const [imports] = parse(readFileSync(join(dist, path), "utf8"));
    // `d === -1`: a static import (dynamic ones load when the code asks for them).
    for (const { n: specifier, d } of imports) {
      if (d !== -1 || specifier === undefined || !specifier.startsWith(".")) continue;
      visit(new URL(specifier, `http://page${path}`).pathname);
    }
  };
  for (const entry of entries) visit(entry);
  return [...seen];
}

function gzipBytes(path: string): number {
  return gzipSync(readFileSync(join(dist, path))).length;
}

describe("the web UI's build", () => {
  beforeAll(async () => {
    ensureWebBuild();
    await init;
  });

  it(`loads at most ${upFrontBudgetBytes / 1000} kB (gzip) before the first message can be sent`, () => {
    const { scripts, styles } = namedByPage(readFileSync(join(dist, "index.html"), "utf8"));
    expect(scripts.length).toBeGreaterThan(0);
    expect(styles.length).toBeGreaterThan(0);
    const upFront = [...staticGraph(scripts), ...styles];
    const sizes = Object.fromEntries(upFront.map((path) => [path, gzipBytes(path)]));
    const total = Object.values(sizes).reduce((sum, size) => sum + size, 0);
    expect(total, `up front: ${JSON.stringify(sizes, null, 2)}`).toBeLessThanOrEqual(upFrontBudgetBytes);

    // The highlighter (Shiki and Streamdown's plugin) is in the build, but not among them: it comes
    // with the first code block.
    const highlighter = ["you may need to load it first", "[Streamdown Code]"];
    const all = readdirSync(join(dist, "assets")).filter((name) => name.endsWith(".js"));
    for (const marker of highlighter) {
      const holders = all.filter((name) => readFileSync(join(dist, "assets", name), "utf8").includes(marker));
      expect(holders.length, marker).toBeGreaterThan(0);
      for (const name of holders) expect(upFront).not.toContain(`/assets/${name}`);
    }
  });
});

/** A GET through node:http, which (unlike fetch) leaves the body as the server encoded it. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    }).on("error", reject);
  });
}

describe("the web UI's assets as Brook serves them", () => {
  let harness: Harness;
  let entry: string;
  beforeAll(async () => {
    ensureWebBuild();
    harness = await startHarness();
    [entry = ""] = namedByPage(readFileSync(join(dist, "index.html"), "utf8")).scripts;
  });
  afterAll(async () => {
    await harness?.close();
  });

  const browser = { accept: "*/*", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0" };

  it("sends the Brotli file to a browser that accepts br, cached for a year as immutable", async () => {
    const original = readFileSync(join(dist, entry));
    const { headers, body } = await rawGet(`${harness.url}${entry}`, {
      ...browser,
      "accept-encoding": "gzip, deflate, br, zstd",
    });
    expect(headers["content-encoding"]).toBe("br");
    expect(headers["content-type"]).toMatch(/^text\/javascript|^application\/javascript/);
    expect(headers.vary).toMatch(/accept-encoding/i);
    expect(headers["cache-control"]).toMatch(/max-age=31536000/);
    expect(headers["cache-control"]).toContain("immutable");
    expect(body.length).toBeLessThan(original.length / 3);
    expect(brotliDecompressSync(body).equals(original)).toBe(true);
  });

  it("sends the gzip file to one that accepts only gzip, and the file itself to one that accepts neither", async () => {
    const original = readFileSync(join(dist, entry));
    const gzip = await rawGet(`${harness.url}${entry}`, { ...browser, "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gzip.headers.vary).toMatch(/accept-encoding/i);
    expect(gzip.headers["cache-control"]).toContain("immutable");
    expect(gunzipSync(gzip.body).equals(original)).toBe(true);

    const plain = await rawGet(`${harness.url}${entry}`, { ...browser, "accept-encoding": "identity" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.body.equals(original)).toBe(true);
  });

  it("serves the style sheet compressed too", async () => {
    const [style = ""] = namedByPage(readFileSync(join(dist, "index.html"), "utf8")).styles;
    const { headers, body } = await rawGet(`${harness.url}${style}`, { ...browser, "accept-encoding": "br" });
    expect(headers["content-encoding"]).toBe("br");
    expect(headers["content-type"]).toMatch(/^text\/css/);
    expect(brotliDecompressSync(body).equals(readFileSync(join(dist, style)))).toBe(true);
  });
});
