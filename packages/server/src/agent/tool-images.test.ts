import { describe, expect, it } from "vitest";
import type { ModelMessage } from "../models/chat-model.js";
import { toolImagesMessage } from "./tool-images.js";

/** A PNG's signature and header, then `padding` bytes, as base64: what a size and type check reads. */
function png(padding = 16): string {
  const bytes = Buffer.alloc(33 + padding);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  bytes.writeUInt32BE(4, 16);
  bytes.writeUInt32BE(4, 20);
  return bytes.toString("base64");
}

const limits = { maxAttachmentBytes: 1024, maxAttachments: 3 };
const calls = [
  { id: "c1", name: "chart", arguments: "{}" },
  { id: "c2", name: "add", arguments: "{}" },
  { id: "c3", name: "screenshot", arguments: "{}" },
];

describe("toolImagesMessage", () => {
  it("is undefined when no result carries an image", () => {
    expect(toolImagesMessage(calls, [{}, { images: [] }, undefined], limits, [])).toBeUndefined();
  });

  it("labels each tool's images and leaves out, by name, what the limits or the format refuse", () => {
    const small = png();
    const conversation: ModelMessage[] = [
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${small}` } },
        ],
      },
    ];
    const message = toolImagesMessage(
      calls,
      [
        {
          images: [
            { mime_type: "image/png", data: small },
            { mime_type: "image/png", data: png(2_000) },
          ],
        },
        {},
        {
          images: [
            { mime_type: "image/svg+xml", data: Buffer.from("<svg/>").toString("base64") },
            { mime_type: "image/png", data: small },
            { mime_type: "image/png", data: small },
          ],
        },
      ],
      limits,
      conversation,
    );
    expect(message).toEqual({
      role: "user",
      content: [
        { type: "text", text: 'The tool "chart" (call c1) returned 2 images:' },
        { type: "image_url", image_url: { url: `data:image/png;base64,${small}` } },
        { type: "text", text: "[image image/png not shown: 2033 bytes, more than MAX_ATTACHMENT_BYTES (1024)]" },
        { type: "text", text: 'The tool "screenshot" (call c3) returned 3 images:' },
        { type: "text", text: expect.stringMatching(/^\[image image\/svg\+xml not shown: the bytes are not/) },
        { type: "image_url", image_url: { url: `data:image/png;base64,${small}` } },
        // The request's image and two of the tools' fill MAX_ATTACHMENTS (3).
        { type: "text", text: expect.stringMatching(/^\[image image\/png not shown: .*\(MAX_ATTACHMENTS\)\]$/) },
      ],
      toolImages: true,
    });
  });
});
