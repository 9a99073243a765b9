import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { attachmentFromPath, createBrookClient } from "@brook/client";
import { createBrook, parseConfig } from "@brook/server";
import { type ChatEvent, ErrorBody, Usage } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { contentOf, startDemoBrook, streamEvents } from "./support/brook-harness.js";
import { startFakeUpstream } from "./support/fake-upstream.js";
import { pngBytes, pngDataUrl } from "./support/images.js";
import { afterThisTest, harness } from "./support/per-test.js";

const json = { "content-type": "application/json" };
const base64 = (text: string) => Buffer.from(text).toString("base64");

/** A Brook in front of a fake upstream whose log lines (JSON, info and above) the test reads. */
async function loggedHarness(env: Record<string, string> = {}) {
  const upstream = await startFakeUpstream({ text: "I see it." });
  const lines: { level: number; msg?: string }[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  const brook = await createBrook(
    parseConfig({
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: upstream.url,
      OPENAI_MAX_RETRIES: "0",
      DRAIN_TIMEOUT_MS: "0",
      ...env,
    }),
    { logStream },
  );
  const url = await brook.listen(0);
  afterThisTest(async () => {
    await brook.close();
    await upstream.close();
  });
  return { url, upstream, lines };
}

async function post(url: string, path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, { method: "POST", headers: json, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

describe("attachments on REST", () => {
  it("gives the model image parts unchanged and text files inlined with their name, past turns' parts too", async () => {
    const { url, upstream } = await harness({}, { text: "A red square." });
    const image = pngDataUrl(64, 32);
    const earlier = pngDataUrl(8, 8);
    const events = await streamEvents(url, {
      message: "What is in the picture?",
      attachments: [
        { type: "image", url: image, detail: "high" },
        { type: "image", url: "https://images.example.com/cat.jpg" },
        { type: "file", name: "notes.md", media_type: "text/markdown", data: base64("# Notes\n- red") },
      ],
      history: [
        {
          role: "user",
          content: [
            { type: "text", text: "And this one?" },
            { type: "image_url", image_url: { url: earlier } },
            { type: "file", file: { filename: "a.csv", file_data: `data:text/csv;base64,${base64("x,y\n1,2")}` } },
          ],
        },
        { role: "assistant", content: "A dot." },
      ],
    });
    expect(contentOf(events)).toBe("A red square.");
    const messages = upstream.requests[0]?.body.messages;
    expect(messages.slice(1)).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "And this one?" },
          { type: "image_url", image_url: { url: earlier } },
          { type: "text", text: '<file name="a.csv" media_type="text/csv">\nx,y\n1,2\n</file>' },
        ],
      },
      { role: "assistant", content: "A dot." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in the picture?" },
          { type: "image_url", image_url: { url: image, detail: "high" } },
          { type: "image_url", image_url: { url: "https://images.example.com/cat.jpg" } },
          { type: "text", text: '<file name="notes.md" media_type="text/markdown">\n# Notes\n- red\n</file>' },
        ],
      },
    ]);
  });

  it("sends a message without attachments as text, as before", async () => {
    const { url, upstream } = await harness({}, { text: "ok" });
    await streamEvents(url, { message: "plain", attachments: [] });
    expect(upstream.requests[0]?.body.messages.at(-1)).toEqual({ role: "user", content: "plain" });
  });

  it("refuses bad attachments with 400 naming the field, before the model is called, logging no error", async () => {
    const { url, upstream, lines } = await loggedHarness({ MAX_ATTACHMENT_BYTES: "2048", MAX_ATTACHMENTS: "2" });
    const png = Buffer.from(pngBytes(4, 4)).toString("base64");
    const cases: [unknown, string, RegExp][] = [
      [{ type: "image", url: "data:image/png;base64,@@@=" }, "attachments.0.url", /base64/],
      [{ type: "image", url: `data:image/jpeg;base64,${png}` }, "attachments.0.url", /image\/png/],
      [{ type: "image", url: `data:image/png;base64,${base64("not an image at all")}` }, "attachments.0.url", /bytes/],
      [{ type: "image", url: "data:application/pdf;base64,JVBERi0=" }, "attachments.0.url", /image\/png/],
      [{ type: "image", url: "http://images.example.com/a.png" }, "attachments.0.url", /https/],
      [{ type: "image", url: "https://10.1.2.3/a.png" }, "attachments.0.url", /public/],
      [{ type: "image", url: "https://[::1]/a.png" }, "attachments.0.url", /public/],
      [{ type: "image", url: "https://localhost/a.png" }, "attachments.0.url", /public/],
      [{ type: "image", url: "https://printer.local/a.png" }, "attachments.0.url", /public/],
      [{ type: "image", url: "https://169.254.169.254/latest" }, "attachments.0.url", /public/],
      [{ type: "image", url: pngDataUrl(4, 4, 4_000) }, "attachments.0.url", /MAX_ATTACHMENT_BYTES/],
      [{ type: "file", name: "a.md", media_type: "text/markdown", data: "no base64!" }, "attachments.0.data", /base64/],
      [
        {
          type: "file",
          name: "a.txt",
          media_type: "text/plain",
          data: Buffer.from([0xff, 0xfe, 0x00]).toString("base64"),
        },
        "attachments.0.data",
        /UTF-8/,
      ],
      [
        { type: "file", name: "a.pdf", media_type: "application/pdf", data: "JVBERi0=" },
        "attachments.0.media_type",
        /text/,
      ],
      [{ type: "sound", url: "x" }, "attachments.0.type", /./],
    ];
    for (const [attachment, field, problem] of cases) {
      const { status, body } = await post(url, "/chat", { message: "look", attachments: [attachment] });
      expect(status, field).toBe(400);
      const error = ErrorBody.parse(body);
      expect(error.code).toBe("bad_request");
      expect(error.fields?.[field]?.join(" "), JSON.stringify(attachment).slice(0, 80)).toMatch(problem);
    }
    const image = { type: "image", url: pngDataUrl(4, 4) };
    const tooMany = await post(url, "/chat", { message: "look", attachments: [image, image, image] });
    expect(tooMany.status).toBe(400);
    expect(ErrorBody.parse(tooMany.body).fields?.attachments?.[0]).toMatch(/MAX_ATTACHMENTS/);
    const badHistory = await post(url, "/chat", {
      message: "look",
      history: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://example.com/a.png" } }] }],
    });
    expect(badHistory.status).toBe(400);
    expect(ErrorBody.parse(badHistory.body).fields).toHaveProperty(["history.0.content.0.image_url.url"]);
    expect(upstream.requests).toHaveLength(0);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  it("refuses a body beyond what the attachment limits allow with 413, before parsing", async () => {
    const { url } = await harness({ MAX_ATTACHMENT_BYTES: "1024", MAX_ATTACHMENTS: "1" });
    const { status, body } = await post(url, "/chat", { message: "x".repeat(1_100_000) });
    expect(status).toBe(413);
    expect(ErrorBody.parse(body).code).toBe("payload_too_large");
  });

  it("accepts a body of several large images within the limits", async () => {
    const { url, upstream } = await harness({}, { text: "ok" });
    const image = { type: "image", url: pngDataUrl(2000, 1000, 1_500_000) };
    const { status } = await post(url, "/chat", { message: "compare", attachments: [image, image] });
    expect(status).toBe(200);
    expect(upstream.requests[0]?.body.messages.at(-1).content).toHaveLength(3);
  });

  it("counts images by OpenAI's tile rule when the model server reports no usage", async () => {
    const { url } = await harness({}, { text: "ok", omitUsage: true });
    const usageOf = async (attachments: unknown[]) => {
      const events = await streamEvents(url, { message: "size?", attachments });
      const complete = events.at(-1) as Extract<ChatEvent, { type: "complete" }>;
      return Usage.parse(complete.usage);
    };
    const none = await usageOf([]);
    // 1024×1024 → 768×768: 4 tiles of 170, plus 85; `low` detail: 85.
    const square = await usageOf([{ type: "image", url: pngDataUrl(1024, 1024) }]);
    const low = await usageOf([{ type: "image", url: pngDataUrl(1024, 1024), detail: "low" }]);
    // 4000×1000 → 2048×512: 4×1 tiles.
    const wide = await usageOf([{ type: "image", url: pngDataUrl(4000, 1000) }]);
    expect(none.estimated).toBe(true);
    expect(square.input_tokens - none.input_tokens).toBe(765);
    expect(low.input_tokens - none.input_tokens).toBe(85);
    expect(wide.input_tokens - none.input_tokens).toBe(765);
    expect(square.total_cost).toBeGreaterThan(none.total_cost);
  });
});

describe("attachments on tRPC and the typed client", () => {
  it("streamChat({ message, attachments }) with files read from disk reaches the model unchanged", async () => {
    const { url, upstream } = await harness({}, { text: "Seen." });
    const folder = await mkdtemp(join(tmpdir(), "brook-attach-"));
    const photo = pngBytes(320, 200);
    await writeFile(join(folder, "photo.png"), photo);
    await writeFile(join(folder, "notes.md"), "# Plan\nship it");
    const attachments = await Promise.all([
      attachmentFromPath(join(folder, "photo.png")),
      attachmentFromPath(join(folder, "notes.md")),
    ]);
    const events: ChatEvent[] = [];
    for await (const event of createBrookClient({ url }).streamChat({ message: "Look", attachments })) {
      events.push(event);
    }
    expect(contentOf(events)).toBe("Seen.");
    expect(upstream.requests[0]?.body.messages.at(-1).content).toEqual([
      { type: "text", text: "Look" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${Buffer.from(photo).toString("base64")}` } },
      { type: "text", text: '<file name="notes.md" media_type="text/markdown">\n# Plan\nship it\n</file>' },
    ]);
  });

  it("refuses a bad attachment on tRPC with BAD_REQUEST naming the field", async () => {
    const { url, upstream } = await harness();
    const trpc = createBrookClient({ url }).trpc;
    const refused = await trpc.chat.start
      .mutate({ message: "x", attachments: [{ type: "image", url: "https://192.168.1.1/cam.jpg" }] })
      .then(
        () => undefined,
        (error: unknown) => error as { data?: { code?: string; fields?: Record<string, string[]> } },
      );
    expect(refused?.data?.code).toBe("BAD_REQUEST");
    expect(refused?.data?.fields).toHaveProperty(["attachments.0.url"]);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("attachments in demo mode", () => {
  it("says what it was given, offline", async () => {
    const demo = await startDemoBrook();
    afterThisTest(() => demo.close());
    const events = await streamEvents(demo.url, {
      message: "what do you see?",
      attachments: [
        { type: "image", url: pngDataUrl(640, 480) },
        { type: "image", url: pngDataUrl(32, 32) },
        { type: "file", name: "notes.md", media_type: "text/markdown", data: base64("hello") },
      ],
    });
    expect(contentOf(events)).toMatch(
      /^You gave me 2 images \(640×480; 32×32\) and 1 file \(notes\.md, 5 characters\)\./,
    );
  });
});
