import { type Attachment, base64Head, type ContentPart, imageSize, parseDataUrl } from "@brook/shared";
import type { ModelContentPart } from "./chat-model.js";

/** A text file as the model reads it: its name and type around its text. */
export function inlinedFile(name: string, mediaType: string, text: string): string {
  return `<file name=${JSON.stringify(name)} media_type=${JSON.stringify(mediaType)}>\n${text}\n</file>`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A text file's base64 bytes as text; undefined when they are not UTF-8. */
export function decodeTextFile(base64: string): string | undefined {
  try {
    return utf8.decode(Buffer.from(base64, "base64"));
  } catch {
    return undefined;
  }
}

/** The new message of Brook's request with its attachments (checked before), as the model's parts. */
export function messageParts(message: string, attachments: readonly Attachment[]): ModelContentPart[] {
  const parts: ModelContentPart[] = [{ type: "text", text: message }];
  for (const attachment of attachments) {
    if (attachment.type === "image") {
      parts.push(imagePart(attachment.url, attachment.detail));
    } else {
      const text = decodeTextFile(attachment.data) ?? "";
      parts.push({ type: "file", name: attachment.name, mediaType: attachment.media_type, text });
    }
  }
  return parts;
}

/** A past turn's OpenAI-style parts (checked before) as the model's parts. */
export function historyParts(content: readonly ContentPart[]): ModelContentPart[] {
  return content.map((part): ModelContentPart => {
    if (part.type === "text") return part;
    if (part.type === "image_url") return imagePart(part.image_url.url, part.image_url.detail);
    const data = parseDataUrl(part.file.file_data);
    return {
      type: "file",
      name: part.file.filename,
      mediaType: data?.mediaType ?? "text/plain",
      text: decodeTextFile(data?.base64 ?? "") ?? "",
    };
  });
}

function imagePart(url: string, detail: "auto" | "low" | "high" | null | undefined): ModelContentPart {
  return { type: "image_url", image_url: detail == null ? { url } : { url, detail } };
}

/** The parts as the model server gets them: text and images unchanged, files inlined as text. */
export function openAIParts(
  parts: readonly ModelContentPart[],
): ({ type: "text"; text: string } | Extract<ModelContentPart, { type: "image_url" }>)[] {
  return parts.map((part) =>
    part.type === "file" ? { type: "text", text: inlinedFile(part.name, part.mediaType, part.text) } : part,
  );
}

/** A JPEG's size may come after its metadata: this much of the image is read for it. */
const sizeHeadBytes = 64 * 1024;

/** An image's size in pixels, for a `data:` URL whose header says it; undefined otherwise. */
export function dataUrlImageSize(url: string): { width: number; height: number } | undefined {
  const data = parseDataUrl(url);
  if (data === undefined) return undefined;
  try {
    return imageSize(base64Head(data.base64, sizeHeadBytes));
  } catch {
    return undefined;
  }
}

/**
 * What an image costs in input tokens, by OpenAI's tile rule: `low` detail is 85; otherwise the
 * image is fitted within 2048×2048, its shorter side brought down to 768, and each 512-pixel
 * tile costs 170 on top of 85. An image of unknown size (an `https:` URL) counts as 1024×1024.
 */
export function imageTokens(part: Extract<ModelContentPart, { type: "image_url" }>): number {
  if (part.image_url.detail === "low") return 85;
  const size = dataUrlImageSize(part.image_url.url) ?? { width: 1024, height: 1024 };
  let { width, height } = size;
  if (width <= 0 || height <= 0) return 85;
  const fit = Math.min(1, 2048 / Math.max(width, height));
  width *= fit;
  height *= fit;
  const shorter = Math.min(1, 768 / Math.min(width, height));
  width *= shorter;
  height *= shorter;
  return 85 + 170 * Math.ceil(width / 512) * Math.ceil(height / 512);
}
