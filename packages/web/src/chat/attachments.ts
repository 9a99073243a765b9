import { type Attachment, attachmentFromBlob } from "@brook/client";

/** Brook's default MAX_ATTACHMENT_BYTES: a larger file is refused here, before sending. */
export const maxAttachmentBytes = 10 * 1024 * 1024;
/** Brook's default MAX_ATTACHMENTS. */
export const maxAttachments = 8;

/** Longest side of the copy of an image a conversation keeps (and sends again with later turns). */
const keptImageSide = 512;
/** Text files up to this size are kept with the conversation; larger ones leave a placeholder. */
const keptTextBytes = 64 * 1024;

/**
 * What a stored conversation keeps of an attachment, within the browser's storage limits: an
 * image as a copy downscaled to at most 512 px (JPEG), a text file's bytes up to 64 KB, else only
 * its name (`data` absent: a placeholder, not sent again).
 */
export type KeptAttachment =
  | { type: "image"; name: string; url: string }
  | { type: "file"; name: string; media_type: string; data?: string };

/** A file chosen, pasted or dropped: what is sent now, and what the conversation keeps. */
export interface PendingAttachment {
  id: string;
  attachment: Attachment;
  kept: KeptAttachment;
}

/** Reads a file for sending; throws with a message for the person when it cannot be sent. */
export async function readAttachment(file: File): Promise<PendingAttachment> {
  const name = file.name || "pasted image";
  if (file.size > maxAttachmentBytes) {
    throw new Error(`${name} is larger than ${maxAttachmentBytes / 1024 / 1024} MB, the most Brook accepts.`);
  }
  const attachment = await attachmentFromBlob(file);
  const kept: KeptAttachment =
    attachment.type === "image"
      ? { type: "image", name, url: await downscaled(file, attachment.url) }
      : {
          type: "file",
          name: attachment.name,
          media_type: attachment.media_type,
          ...(file.size <= keptTextBytes ? { data: attachment.data } : {}),
        };
  return { id: crypto.randomUUID(), attachment, kept };
}

/** A JPEG copy at most 512 px on its longest side (the image itself when already that small). */
async function downscaled(file: File, original: string): Promise<string> {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, keptImageSide / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= 96 * 1024) return original;
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return canvas.toDataURL("image/jpeg", 0.8);
  } catch {
    // Bytes the browser cannot draw: keep none rather than megabytes.
    return "";
  }
}

/** A past turn's kept attachments as history parts (placeholders and undrawable images left out). */
export function keptParts(text: string, kept: readonly KeptAttachment[]) {
  const parts: (
    | { type: "text"; text: string }
    | { type: "image_url"; image_url: { url: string } }
    | { type: "file"; file: { filename: string; file_data: string } }
  )[] = [{ type: "text", text }];
  for (const item of kept) {
    if (item.type === "image" && item.url !== "") parts.push({ type: "image_url", image_url: { url: item.url } });
    if (item.type === "file" && item.data !== undefined) {
      parts.push({
        type: "file",
        file: { filename: item.name, file_data: `data:${item.media_type};base64,${item.data}` },
      });
    }
  }
  return parts;
}
