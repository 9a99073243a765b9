import { BlockList, isIPv4, isIPv6 } from "node:net";
import { base64Bytes, type ContentPart, parseDataUrl } from "@brook/shared";
import type { ModelContentPart } from "../models/chat-model.js";
import { decodeTextFile } from "../models/message-parts.js";
import type { RunRequest } from "./run-request.js";

export interface AttachmentLimits {
  /** Largest image or file, decoded. */
  maxAttachmentBytes: number;
  /** Most images and files in one request, past turns included. */
  maxAttachments: number;
}

/** Where an image or a file sits in the request, by the caller's name of it, and what it holds. */
type Found =
  | { field: string; kind: "image"; url: string }
  | { field: string; kind: "file"; base64: string }
  /** A file a surface already decoded (its text inlined): only its size is checked. */
  | { field: string; kind: "text"; bytes: number };

/**
 * Checks the images and files of a request against the limits (count, decoded size), that text
 * files are UTF-8, and that image URLs point to the public internet; problems go into `fields`,
 * named as the caller wrote them. Shapes (base64, signatures, `https:`) were checked when parsed.
 */
export function checkAttachments(
  request: RunRequest,
  limits: AttachmentLimits,
  part: (index: number, at: number) => string,
  fields: Record<string, string[]>,
): void {
  const found: Found[] = [];
  (request.attachments ?? []).forEach((attachment, index) => {
    const field = `attachments.${index}`;
    found.push(
      attachment.type === "image"
        ? { field: `${field}.url`, kind: "image", url: attachment.url }
        : { field: `${field}.data`, kind: "file", base64: attachment.data },
    );
  });
  (request.history ?? []).forEach((entry, index) => {
    if (typeof entry.content !== "string") {
      entry.content.forEach((piece, at) => {
        addPart(found, `history.${index}.content.${at}`, piece);
      });
    }
  });
  request.conversation?.forEach((entry, index) => {
    if (entry.role === "user" && typeof entry.content !== "string") {
      entry.content.forEach((piece, at) => {
        addModelPart(found, part(index, at), piece);
      });
    }
  });
  if (found.length > limits.maxAttachments) {
    const field = request.conversation === undefined && request.history == null ? "attachments" : "body";
    fields[field] = [
      `at most ${limits.maxAttachments} images and files in a request (MAX_ATTACHMENTS); got ${found.length}`,
    ];
    return;
  }
  for (const item of found) {
    const problem = attachmentProblem(item, limits.maxAttachmentBytes);
    if (problem !== undefined) fields[item.field] = [problem];
  }
}

function addPart(found: Found[], field: string, piece: ContentPart): void {
  if (piece.type === "image_url")
    found.push({ field: `${field}.image_url.url`, kind: "image", url: piece.image_url.url });
  if (piece.type === "file") {
    found.push({
      field: `${field}.file.file_data`,
      kind: "file",
      base64: parseDataUrl(piece.file.file_data)?.base64 ?? "",
    });
  }
}

function addModelPart(found: Found[], field: string, piece: ModelContentPart): void {
  if (piece.type === "image_url") found.push({ field, kind: "image", url: piece.image_url.url });
  if (piece.type === "file") found.push({ field, kind: "text", bytes: Buffer.byteLength(piece.text) });
}

function attachmentProblem(item: Found, maxBytes: number): string | undefined {
  const tooLarge = (bytes: number) =>
    bytes > maxBytes ? `at most ${maxBytes} bytes (MAX_ATTACHMENT_BYTES); got ${bytes}` : undefined;
  if (item.kind === "text") return tooLarge(item.bytes);
  if (item.kind === "file") {
    return (
      tooLarge(base64Bytes(item.base64)) ??
      (decodeTextFile(item.base64) === undefined ? "a text file must be UTF-8" : undefined)
    );
  }
  const data = parseDataUrl(item.url);
  if (data !== undefined) return tooLarge(base64Bytes(data.base64));
  return privateHostProblem(new URL(item.url).hostname);
}

/**
 * Addresses no public image lives at: loopback, private, link-local, shared and reserved ranges.
 * Two lists: a BlockList also matches IPv4 addresses against IPv6 rules (as mapped addresses).
 */
const privateIPv4 = new BlockList();
const privateIPv6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const) {
  privateIPv4.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 127],
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  privateIPv6.addSubnet(network, prefix, "ipv6");
}

const privateSuffixes = [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet"];

/**
 * Why a URL's host is refused: the model server would fetch it from inside the network Brook
 * runs in. Names are judged by their form (Brook resolves nothing): one label or a local suffix.
 */
export function privateHostProblem(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const refused = "must point to a public address: the model server would fetch it from inside your network";
  if (isIPv4(host)) return privateIPv4.check(host, "ipv4") ? refused : undefined;
  if (isIPv6(host)) return privateIPv6.check(host, "ipv6") ? refused : undefined;
  const name = host.replace(/\.$/, "");
  if (name === "localhost" || !name.includes(".") || privateSuffixes.some((suffix) => name.endsWith(suffix))) {
    return refused;
  }
  return undefined;
}
