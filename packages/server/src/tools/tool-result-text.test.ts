import { describe, expect, it } from "vitest";
import { toolResultParts, toolResultText, truncateToolText } from "./tool-result-text.js";

describe("toolResultText", () => {
  it("joins text parts and describes the others", () => {
    const text = toolResultText({
      content: [
        { type: "text", text: "first" },
        { type: "image", data: "AAAA", mimeType: "image/png" },
        { type: "resource", resource: { uri: "file:///a.txt", text: "inline" } },
        { type: "resource_link", uri: "file:///b.bin", name: "b" },
      ],
    });
    expect(text).toBe("first\n[image image/png, 3 B]\ninline\n[resource file:///b.bin (b)]");
  });

  it("describes audio and binary resources instead of dropping them, and says which images the user sees", () => {
    const text = toolResultText(
      {
        content: [
          { type: "image", data: "A".repeat(8), mimeType: "image/png" },
          { type: "image", data: "A".repeat(4000), mimeType: "image/jpeg" },
          { type: "audio", data: "AAAA", mimeType: "audio/wav" },
          { type: "resource", resource: { uri: "file:///c.bin", blob: "AAAA", mimeType: "application/zip" } },
        ],
      },
      100,
    );
    expect(text).toBe(
      "[image image/png, 6 B: shown to the user]\n[image image/jpeg, 3 KB]\n[audio audio/wav, 3 B: not played]\n[binary resource file:///c.bin (application/zip), 3 B]",
    );
  });

  it("falls back to structured content", () => {
    expect(toolResultText({ content: [], structuredContent: { sum: 5 } })).toBe('{"sum":5}');
  });
});

describe("toolResultParts", () => {
  it("keeps structured content, resource links and the images within the limit", () => {
    const parts = toolResultParts(
      {
        content: [
          { type: "image", data: "AAAA", mimeType: "image/png" },
          { type: "image", data: "A".repeat(200), mimeType: "image/png" },
          { type: "resource_link", uri: "file:///report.pdf", name: "report", mimeType: "application/pdf" },
        ],
        structuredContent: { sum: 5 },
      },
      100,
    );
    expect(parts).toEqual({
      structured: { sum: 5 },
      resources: [{ uri: "file:///report.pdf", name: "report", mime_type: "application/pdf" }],
      images: [{ mime_type: "image/png", data: "AAAA" }],
    });
    expect(toolResultParts({ content: [{ type: "text", text: "plain" }] }, 100)).toEqual({});
  });
});

describe("truncateToolText", () => {
  it("leaves short text alone", () => {
    expect(truncateToolText("short", 100)).toBe("short");
  });

  it("cuts long text and says how long it was", () => {
    const cut = truncateToolText("a".repeat(500), 100);
    expect(cut.startsWith("a".repeat(100))).toBe(true);
    expect(cut).toContain("truncated: the result had 500 characters");
  });

  it("does not split a surrogate pair", () => {
    const cut = truncateToolText(`${"a".repeat(99)}😀tail`, 100);
    expect(cut.startsWith(`${"a".repeat(99)}\n`)).toBe(true);
  });
});
