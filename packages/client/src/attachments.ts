import { type Attachment, imageMediaTypes, isTextMediaType, sniffImageType, supportedFileTypes } from "@brook/shared";

/** Media types by file extension, for files read from disk (a browser's `File` says its own). */
const extensionTypes: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  css: "text/css",
  json: "application/json",
  jsonl: "application/x-ndjson",
  xml: "application/xml",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  js: "text/javascript",
  ts: "text/plain",
  py: "text/x-python",
  sql: "application/sql",
  sh: "application/x-sh",
  // Known, to be refused by name rather than sent as text.
  pdf: "application/pdf",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  zip: "application/zip",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

/** A media type guessed from a file name's extension; undefined when it has none Brook knows. */
export function mediaTypeOf(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : extensionTypes[name.slice(dot + 1).toLowerCase()];
}

/** Bytes as base64, in slices (a large image at once would overflow `String.fromCharCode`'s arguments). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}

/**
 * An attachment from a file's bytes: a PNG, JPEG, GIF or WebP (known by its bytes) becomes an
 * image as a `data:` URL, a text-like file a file attachment; anything else is refused here,
 * before it is sent. `mediaType` is guessed from the name when not given.
 */
export function attachmentFromBytes(name: string, bytes: Uint8Array, mediaType?: string): Attachment {
  const image = sniffImageType(bytes.subarray(0, 16));
  if (image !== undefined) return { type: "image", url: `data:${image};base64,${toBase64(bytes)}` };
  const type = mediaType || mediaTypeOf(name) || "text/plain";
  if ((imageMediaTypes as readonly string[]).includes(type)) {
    throw new Error(`${name} is not a ${type} image: its bytes say otherwise.`);
  }
  if (!isTextMediaType(type)) {
    throw new Error(
      `${name} (${type}) cannot be sent: images (PNG, JPEG, GIF, WebP) and text files (${supportedFileTypes}) can.`,
    );
  }
  return { type: "file", name, media_type: type, data: toBase64(bytes) };
}

/** An attachment from a browser's `File` (or any named Blob): what an `<input type="file">`, a paste or a drop gives. */
export async function attachmentFromBlob(file: Blob & { name?: string }): Promise<Attachment> {
  const name = file.name || "pasted";
  return attachmentFromBytes(name, new Uint8Array(await file.arrayBuffer()), file.type);
}

/** An attachment from a file on disk (Node): an image or a text file, by its bytes and extension. */
export async function attachmentFromPath(path: string): Promise<Attachment> {
  // Imported when called: the client also runs in browsers, which have no file system.
  const [{ readFile }, { basename }] = await Promise.all([import("node:fs/promises"), import("node:path")]);
  return attachmentFromBytes(basename(path), new Uint8Array(await readFile(path)));
}
