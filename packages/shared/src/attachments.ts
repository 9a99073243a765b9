/**
 * Images and text files given to the model with a message: their wire shapes, and the checks that
 * need no configuration (base64, the bytes' signature, the URL's scheme). Brook never fetches a URL
 * itself: an `https:` image URL is passed to the model server as it is.
 */
import { z } from "zod";

/** The image types whose bytes Brook recognises by their signature. */
export const imageMediaTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export type ImageMediaType = (typeof imageMediaTypes)[number];

/** Text-like types given to the model as text (besides every `text/*`). */
const textMediaTypes = new Set([
  "application/json",
  "application/ld+json",
  "application/x-ndjson",
  "application/xml",
  "application/yaml",
  "application/x-yaml",
  "application/toml",
  "application/javascript",
  "application/typescript",
  "application/sql",
  "application/x-sh",
]);

/** Whether a file of this media type is given to the model as text. */
export function isTextMediaType(mediaType: string): boolean {
  const type = mediaType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type.startsWith("text/") || textMediaTypes.has(type) || type.endsWith("+json") || type.endsWith("+xml");
}

export const supportedFileTypes = "text/*, JSON, CSV, Markdown, XML, YAML";

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `text` is standard base64 (padded, no whitespace). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && base64Pattern.test(text);
}

/** The number of bytes `base64` decodes to (it must be valid base64). */
export function base64Bytes(base64: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** The first bytes of `base64` (at most 48), decoded without decoding the rest. */
export function base64Head(base64: string, bytes = 48): Uint8Array {
  const head = atob(base64.slice(0, Math.ceil(bytes / 3) * 4));
  return Uint8Array.from(head, (character) => character.charCodeAt(0));
}

/** The image type the bytes start with, by their signature (PNG, JPEG, GIF, WebP). */
export function sniffImageType(head: Uint8Array): ImageMediaType | undefined {
  const starts = (bytes: readonly number[], at = 0) => bytes.every((byte, index) => head[at + index] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (head[4] === 0x37 || head[4] === 0x39) && head[5] === 0x61)
    return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return undefined;
}

/** A `data:` URL's parts: its media type (lower case, without parameters) and its base64 data. */
export interface DataUrl {
  mediaType: string;
  base64: string;
}

/** Splits a base64 `data:` URL; undefined when it is not one. */
export function parseDataUrl(url: string): DataUrl | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma < 0) return undefined;
  const header = url.slice(5, comma).split(";");
  if (header.at(-1)?.toLowerCase() !== "base64") return undefined;
  return { mediaType: (header[0] ?? "").trim().toLowerCase(), base64: url.slice(comma + 1) };
}

/** What is wrong with an image URL (`data:` base64 of a PNG, JPEG, GIF or WebP, or `https:`); undefined when nothing. */
export function imageUrlProblem(url: string): string | undefined {
  if (url.startsWith("data:")) {
    const data = parseDataUrl(url);
    if (data === undefined) return "a data: URL must be base64 (data:image/png;base64,…)";
    if (!(imageMediaTypes as readonly string[]).includes(data.mediaType)) {
      return `an image must be one of ${imageMediaTypes.join(", ")}; got ${data.mediaType || "no media type"}`;
    }
    return imageDataProblem(data.mediaType, data.base64);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be a data: URL or an https: URL";
  }
  if (parsed.protocol !== "https:") return `must be a data: URL or an https: URL; got ${parsed.protocol}`;
  return undefined;
}

/** What is wrong with an image's base64 bytes said to be `mediaType`; undefined when nothing. */
export function imageDataProblem(mediaType: string, base64: string): string | undefined {
  if (!isBase64(base64)) return "the data is not valid base64";
  if (base64.length === 0) return "the image is empty";
  const found = sniffImageType(base64Head(base64));
  if (found === undefined) return `the bytes are not a ${imageMediaTypes.join(", ")} image`;
  if (found !== mediaType) return `the media type says ${mediaType} but the bytes are ${found}`;
  return undefined;
}

const checkedImageUrl = z
  .string()
  .min(1)
  .superRefine((url, context) => {
    const problem = imageUrlProblem(url);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });

/** OpenAI's `detail`: how closely a vision model looks (and what the image costs). */
export const ImageDetail = z.enum(["auto", "low", "high"]);
export type ImageDetail = z.infer<typeof ImageDetail>;

/** An image: a `data:` URL (base64 PNG, JPEG, GIF or WebP) or an `https:` URL the model server fetches. */
export const ImageAttachment = z.object({
  type: z.literal("image"),
  url: checkedImageUrl,
  detail: ImageDetail.nullish(),
});
export type ImageAttachment = z.input<typeof ImageAttachment>;

const fileName = z.string().trim().min(1).max(255);

/** A text-like file (`text/*`, JSON, CSV, Markdown…), base64: the model gets its text with its name. */
export const FileAttachment = z
  .object({
    type: z.literal("file"),
    name: fileName,
    media_type: z.string().trim().min(1).max(255),
    data: z.string(),
  })
  .superRefine((file, context) => {
    if (!isTextMediaType(file.media_type)) {
      context.addIssue({
        code: "custom",
        path: ["media_type"],
        message: `only text-like files are given to the model (${supportedFileTypes}); send images as image attachments; got ${file.media_type}`,
      });
    }
    if (!isBase64(file.data)) context.addIssue({ code: "custom", path: ["data"], message: "not valid base64" });
  });
export type FileAttachment = z.input<typeof FileAttachment>;

export const Attachment = z.discriminatedUnion("type", [ImageAttachment, FileAttachment]);
export type Attachment = z.input<typeof Attachment>;

/** OpenAI-style content parts of a past turn: text, `image_url`, and `file` (a text file as a base64 data URL). */
export const TextContentPart = z.object({ type: z.literal("text"), text: z.string() });
export const ImageContentPart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: checkedImageUrl, detail: ImageDetail.nullish() }),
});
export const FileContentPart = z.object({
  type: z.literal("file"),
  file: z.object({
    filename: fileName,
    file_data: z.string().superRefine((url, context) => {
      const data = parseDataUrl(url);
      if (data === undefined) {
        context.addIssue({ code: "custom", message: "must be a base64 data: URL (data:text/markdown;base64,…)" });
      } else if (!isTextMediaType(data.mediaType)) {
        context.addIssue({
          code: "custom",
          message: `only text-like files are given to the model (${supportedFileTypes}); got ${data.mediaType}`,
        });
      } else if (!isBase64(data.base64)) {
        context.addIssue({ code: "custom", message: "not valid base64" });
      }
    }),
  }),
});
export const ContentPart = z.discriminatedUnion("type", [TextContentPart, ImageContentPart, FileContentPart]);
export type ContentPart = z.input<typeof ContentPart>;

export interface ImageSize {
  width: number;
  height: number;
}

/**
 * An image's size in pixels, read from its header (PNG IHDR, GIF screen, WebP VP8/VP8L/VP8X,
 * JPEG's first start-of-frame); undefined when the bytes do not say.
 */
export function imageSize(bytes: Uint8Array): ImageSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = sniffImageType(bytes);
  try {
    if (type === "image/png") return { width: view.getUint32(16), height: view.getUint32(20) };
    if (type === "image/gif") return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
    if (type === "image/webp") return webpSize(bytes, view);
    if (type === "image/jpeg") return jpegSize(bytes, view);
  } catch {
    // A header cut short: no size.
  }
  return undefined;
}

function webpSize(bytes: Uint8Array, view: DataView): ImageSize | undefined {
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === "VP8X") {
    const uint24 = (at: number) => (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
    return { width: 1 + uint24(24), height: 1 + uint24(27) };
  }
  if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  if (chunk === "VP8 ") return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  return undefined;
}

function jpegSize(bytes: Uint8Array, view: DataView): ImageSize | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] ?? 0;
    // Start-of-frame markers (baseline, progressive…), not DHT (C4), JPG (C8) or DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    at += 2 + view.getUint16(at + 2);
  }
  return undefined;
}
