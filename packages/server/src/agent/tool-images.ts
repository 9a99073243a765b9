import { base64Bytes, imageDataProblem, type ToolImage } from "@brook/shared";
import type { AttachmentLimits } from "../control/attachment-limits.js";
import type { ModelContentPart, ModelMessage, ModelToolCall } from "../models/chat-model.js";

/**
 * The images of one turn's tool results as a user message, for the next model call; undefined
 * when there are none. OpenAI's chat format takes images in user messages only, so the tool
 * messages keep the results' text and this message follows them, each tool's images labelled
 * with its name and call id. Images count against the attachment limits as a request's do:
 * MAX_ATTACHMENTS for the whole conversation (`conversation`'s own images included), and
 * MAX_ATTACHMENT_BYTES each; an image left out (too many, too large, not PNG, JPEG, GIF or WebP)
 * is named in the message instead, so the model knows it was not shown.
 */
export function toolImagesMessage(
  calls: readonly ModelToolCall[],
  results: readonly ({ images?: readonly ToolImage[] | undefined } | undefined)[],
  limits: AttachmentLimits,
  conversation: readonly ModelMessage[],
): ModelMessage | undefined {
  if (!results.some((result) => (result?.images?.length ?? 0) > 0)) return undefined;
  const parts: ModelContentPart[] = [];
  let room = Math.max(0, limits.maxAttachments - imagesIn(conversation));
  calls.forEach((call, index) => {
    const images = results[index]?.images ?? [];
    if (images.length === 0) return;
    const label = `The tool "${call.name}" (call ${call.id}) returned ${images.length === 1 ? "this image" : `${images.length} images`}:`;
    parts.push({ type: "text", text: label });
    for (const image of images) {
      const left = leftOut(image, limits.maxAttachmentBytes, room);
      if (left === undefined) {
        parts.push({ type: "image_url", image_url: { url: `data:${image.mime_type};base64,${image.data}` } });
        room -= 1;
      } else {
        parts.push({ type: "text", text: `[image ${image.mime_type} not shown: ${left}]` });
      }
    }
  });
  return { role: "user", content: parts, toolImages: true };
}

function leftOut(image: ToolImage, maxBytes: number, room: number): string | undefined {
  if (room === 0) return "the conversation holds the most images it may (MAX_ATTACHMENTS)";
  const bytes = base64Bytes(image.data);
  if (bytes > maxBytes) return `${bytes} bytes, more than MAX_ATTACHMENT_BYTES (${maxBytes})`;
  return imageDataProblem(image.mime_type, image.data);
}

/** The images already in a conversation (the request's and earlier tools'). */
function imagesIn(messages: readonly ModelMessage[]): number {
  let count = 0;
  for (const message of messages) {
    if (message.role === "user" && typeof message.content !== "string") {
      for (const part of message.content) if (part.type === "image_url") count += 1;
    }
  }
  return count;
}
