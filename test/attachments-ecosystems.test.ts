import * as ai from "ai";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { pngDataUrl } from "./support/images.js";
import { harness } from "./support/per-test.js";

const base64 = (text: string) => Buffer.from(text).toString("base64");

describe("attachments at /v1/chat/completions (openai SDK)", () => {
  it("passes image_url parts on unchanged and inlines text file parts", async () => {
    const { url, upstream } = await harness({}, { text: "Two cats." });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const image = pngDataUrl(800, 600);
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "How many cats?" },
            { type: "image_url", image_url: { url: image, detail: "low" } },
            { type: "image_url", image_url: { url: "https://images.example.com/cats.webp" } },
            {
              type: "file",
              file: { filename: "list.json", file_data: `data:application/json;base64,${base64('["tom","kit"]')}` },
            },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Two cats.");
    expect(upstream.requests[0]?.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "How many cats?" },
        { type: "image_url", image_url: { url: image, detail: "low" } },
        { type: "image_url", image_url: { url: "https://images.example.com/cats.webp" } },
        { type: "text", text: '<file name="list.json" media_type="application/json">\n["tom","kit"]\n</file>' },
      ],
    });
  });

  it("refuses a bad image with the SDK's BadRequestError naming the part", async () => {
    const { url, upstream } = await harness();
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    for (const [imageUrl, param] of [
      ["http://images.example.com/a.png", "messages.0.content.1.image_url.url"],
      ["https://127.0.0.1/a.png", "messages.0.content.1"],
      [`data:image/gif;base64,${pngDataUrl(2, 2).split(",")[1]}`, "messages.0.content.1.image_url.url"],
    ] as const) {
      const error = await client.chat.completions
        .create({
          model: "gpt-4o-mini",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "look" },
                { type: "image_url", image_url: { url: imageUrl } },
              ],
            },
          ],
        })
        .catch((thrown: unknown) => thrown);
      expect(error, imageUrl).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param, imageUrl).toBe(param);
    }
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("attachments at /v1/responses (openai SDK)", () => {
  it("passes input_image parts on as image_url parts unchanged and inlines input_file parts", async () => {
    const { url, upstream } = await harness({}, { text: "Two cats." });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const image = pngDataUrl(800, 600);
    const response = await client.responses.create({
      model: "gpt-4o-mini",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "How many cats?" },
            { type: "input_image", image_url: image, detail: "low" },
            { type: "input_image", image_url: "https://images.example.com/cats.webp", detail: "auto" },
            {
              type: "input_file",
              filename: "list.json",
              file_data: `data:application/json;base64,${base64('["tom","kit"]')}`,
            },
          ],
        },
      ],
    });
    expect(response.output_text).toBe("Two cats.");
    expect(upstream.requests[0]?.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "How many cats?" },
        { type: "image_url", image_url: { url: image, detail: "low" } },
        { type: "image_url", image_url: { url: "https://images.example.com/cats.webp", detail: "auto" } },
        { type: "text", text: '<file name="list.json" media_type="application/json">\n["tom","kit"]\n</file>' },
      ],
    });
  });

  it("refuses a bad image or file with the SDK's BadRequestError naming the part", async () => {
    const { url, upstream } = await harness({ MAX_ATTACHMENT_BYTES: "1024" });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const pngBase64 = pngDataUrl(2, 2).split(",")[1];
    for (const [part, param] of [
      [{ type: "input_image", image_url: "http://images.example.com/a.png", detail: "auto" }, "image_url"],
      [{ type: "input_image", image_url: "https://127.0.0.1/a.png", detail: "auto" }, "image_url"],
      [{ type: "input_image", image_url: `data:image/gif;base64,${pngBase64}`, detail: "auto" }, "image_url"],
      [{ type: "input_image", image_url: pngDataUrl(2, 2, 2000), detail: "auto" }, "image_url"],
      [{ type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" }, "file_data"],
      [{ type: "input_file", filename: "a.txt", file_data: "data:text/plain;base64,//79" }, "file_data"],
    ] as const) {
      const error = await client.responses
        .create({
          model: "gpt-4o-mini",
          input: [{ role: "user", content: [{ type: "input_text", text: "look" }, part] }],
        })
        .catch((thrown: unknown) => thrown);
      const label = JSON.stringify(part).slice(0, 80);
      expect(error, label).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param, label).toBe(`input.0.content.1.${param}`);
    }
    const assistant = await client.responses
      .create({
        model: "gpt-4o-mini",
        input: [
          { role: "user", content: "look" },
          // Not in the SDK's types for an answer: sent as a client that mixes them up would.
          { role: "assistant", content: [{ type: "input_image", image_url: pngDataUrl(2, 2), detail: "auto" }] },
        ] as OpenAI.Responses.ResponseInput,
      })
      .catch((thrown: unknown) => thrown);
    expect((assistant as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("input.1.content.0");
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("attachments at /api/chat (ai 7)", () => {
  async function send(url: string, parts: ai.UIMessage["parts"]) {
    const transport = new ai.DefaultChatTransport({ api: `${url}/api/chat` });
    const stream = await transport.sendMessages({
      chatId: `chat-${Math.random().toString(36).slice(2)}`,
      messages: [{ id: "u1", role: "user", parts }],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    });
    const errors: unknown[] = [];
    let last: ai.UIMessage | undefined;
    for await (const message of ai.readUIMessageStream({ stream, onError: (error) => errors.push(error) })) {
      last = message;
    }
    return { message: last, errors };
  }

  it("turns image file parts into image parts and inlines text files", async () => {
    const { url, upstream } = await harness({}, { text: "A chart." });
    const image = pngDataUrl(300, 200);
    const { message, errors } = await send(url, [
      { type: "text", text: "Explain" },
      { type: "file", mediaType: "image/png", filename: "chart.png", url: image },
      { type: "file", mediaType: "text/csv", filename: "data.csv", url: `data:text/csv;base64,${base64("a,b\n1,2")}` },
    ]);
    expect(errors).toEqual([]);
    expect(message?.parts.at(-1)).toMatchObject({ type: "text", text: "A chart." });
    expect(upstream.requests[0]?.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Explain" },
        { type: "image_url", image_url: { url: image } },
        { type: "text", text: '<file name="data.csv" media_type="text/csv">\na,b\n1,2\n</file>' },
      ],
    });
  });

  it("refuses a PDF or audio part with 400 naming the part and the supported types", async () => {
    const { url, upstream } = await harness();
    for (const mediaType of ["application/pdf", "audio/wav"]) {
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          id: "c1",
          messages: [
            {
              id: "u1",
              role: "user",
              parts: [
                { type: "text", text: "read this" },
                { type: "file", mediaType, url: `data:${mediaType};base64,JVBERi0=` },
              ],
            },
          ],
        }),
      });
      expect(response.status, mediaType).toBe(400);
      const text = await response.text();
      expect(text).toContain("messages.0.parts.1");
      expect(text).toContain(`${mediaType} files are not supported`);
      expect(text).toContain("image/png");
    }
    expect(upstream.requests).toHaveLength(0);
  });
});
