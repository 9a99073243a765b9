import { describe, expect, it } from "vitest";
import { base64Bytes, imageSize, imageUrlProblem, isBase64, sniffImageType } from "./attachments.js";

const bytes = (...values: number[]) => new Uint8Array(values);
const b64 = (data: Uint8Array) => btoa(String.fromCharCode(...data));

describe("attachment checks", () => {
  it("knows PNG, JPEG, GIF and WebP by their first bytes, and nothing else", () => {
    expect(sniffImageType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe("image/png");
    expect(sniffImageType(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe("image/jpeg");
    expect(sniffImageType(new TextEncoder().encode("GIF89a"))).toBe("image/gif");
    expect(sniffImageType(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 "))).toBe("image/webp");
    expect(sniffImageType(new TextEncoder().encode("%PDF-1.7"))).toBeUndefined();
  });

  it("reads base64 sizes without decoding, and refuses what is not base64", () => {
    expect(isBase64("aGVsbG8=")).toBe(true);
    expect(isBase64("aGVsbG8")).toBe(false);
    expect(isBase64("aGV sbG8=")).toBe(false);
    expect(base64Bytes("aGVsbG8=")).toBe(5);
    expect(base64Bytes("aGVsbG8h")).toBe(6);
  });

  it("reads an image's size from its header", () => {
    const png = new Uint8Array(33);
    png.set([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 128, 0, 0, 1, 224,
    ]);
    expect(imageSize(png)).toEqual({ width: 640, height: 480 });
    const gif = new Uint8Array([...new TextEncoder().encode("GIF89a"), 10, 0, 20, 0]);
    expect(imageSize(gif)).toEqual({ width: 10, height: 20 });
    const jpeg = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc2, 0, 17, 8, 0, 30, 0, 40, 3, 1, 0x22);
    expect(imageSize(jpeg)).toEqual({ width: 40, height: 30 });
    const webp = new Uint8Array(30);
    webp.set([...new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8X")]);
    webp.set([99, 0, 0, 49, 0, 0], 24);
    expect(imageSize(webp)).toEqual({ width: 100, height: 50 });
  });

  it("says what is wrong with an image URL", () => {
    const png = b64(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13));
    expect(imageUrlProblem(`data:image/png;base64,${png}`)).toBeUndefined();
    expect(imageUrlProblem("https://example.com/a.png")).toBeUndefined();
    expect(imageUrlProblem(`data:image/webp;base64,${png}`)).toMatch(/says image\/webp but the bytes are image\/png/);
    expect(imageUrlProblem("data:image/png,rawtext")).toMatch(/base64/);
    expect(imageUrlProblem("http://example.com/a.png")).toMatch(/https/);
    expect(imageUrlProblem("ftp://example.com/a.png")).toMatch(/https/);
    expect(imageUrlProblem("not a url")).toMatch(/https/);
  });
});
