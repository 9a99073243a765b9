import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBrookCli } from "./support/brook-cli.js";
import { pngBytes } from "./support/images.js";
import { afterThisTest, harness } from "./support/per-test.js";

/** A file in a folder removed after the test. */
function file(name: string, bytes: Uint8Array | string): string {
  const folder = mkdtempSync(join(tmpdir(), "brook-cli-attach-"));
  afterThisTest(() => rmSync(folder, { recursive: true, force: true }));
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

describe("brook chat --image --file", { timeout: 60_000 }, () => {
  it("sends the image unchanged and the text file inlined with its name", async () => {
    const { url, upstream } = await harness({}, { text: "A small picture." });
    const photo = pngBytes(120, 80);
    const result = await runBrookCli([
      "chat",
      "--url",
      url,
      "--image",
      file("photo.png", photo),
      "--file",
      file("notes.md", "# Notes\nmeet at 5"),
      "What is this?",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("A small picture.");
    expect(upstream.requests[0]?.body.messages.at(-1).content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${Buffer.from(photo).toString("base64")}` } },
      { type: "text", text: '<file name="notes.md" media_type="text/markdown">\n# Notes\nmeet at 5\n</file>' },
    ]);
  });

  it("names the option when a file is missing, is no image, or cannot be sent", async () => {
    const { url, upstream } = await harness();
    const missing = await runBrookCli(["chat", "--url", url, "--image", join(tmpdir(), "no-such.png"), "hi"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^brook: --image: cannot read .*no-such\.png \(ENOENT\)/m);
    const notImage = await runBrookCli(["chat", "--url", url, "--image", file("notes.txt", "just text"), "hi"]);
    expect(notImage.code).toBe(2);
    expect(notImage.stderr).toMatch(/^brook: --image: .*notes\.txt is not a PNG, JPEG, GIF or WebP image/m);
    const pdf = await runBrookCli(["chat", "--url", url, "--file", file("paper.pdf", "%PDF-1.7"), "hi"]);
    expect(pdf.code).toBe(2);
    expect(pdf.stderr).toMatch(/^brook: --file: paper\.pdf \(application\/pdf\) cannot be sent/m);
    expect(upstream.requests).toHaveLength(0);
  });
});
