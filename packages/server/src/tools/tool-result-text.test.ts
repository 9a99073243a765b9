import { describe, expect, it } from "vitest";
import { toolResultText, truncateToolText } from "./tool-result-text.js";

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
    expect(text).toBe("first\n[image image/png]\ninline\n[resource file:///b.bin (b)]");
  });

  it("falls back to structured content", () => {
    expect(toolResultText({ content: [], structuredContent: { sum: 5 } })).toBe('{"sum":5}');
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
