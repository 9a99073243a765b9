/**
 * What a 1 MB image adds before the model server is called: Brook parses the body, checks the
 * base64, the signature and the limits, and sends the image on. Measured as time to first token
 * through Brook minus straight to the fake upstream, with the image and without; the difference
 * of the two is the image's cost in Brook (its bytes cross loopback twice either way).
 */
import { quantile } from "./load.js";
import type { Context } from "./scenarios.js";

export interface AttachmentBenchConfig {
  /** Requests of each kind, one at a time (the first few warm up and are not counted). */
  requests: number;
  /** Decoded size of the image. */
  imageBytes: number;
}

export const attachmentBench: { full: AttachmentBenchConfig; quick: AttachmentBenchConfig } = {
  full: { requests: 200, imageBytes: 1_048_576 },
  quick: { requests: 60, imageBytes: 1_048_576 },
};

const warmUp = 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

/** A PNG signature and header, then filler: Brook reads no pixels. */
function pngDataUrl(bytes: number): string {
  const image = Buffer.alloc(bytes, 0x5a);
  image.set([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 4, 0, 0, 0, 3, 0,
  ]);
  return `data:image/png;base64,${image.toString("base64")}`;
}

/** Milliseconds from sending `body` to the first byte of answer text. */
async function timeToFirstToken(url: string, body: string): Promise<number> {
  const startedAt = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (!response.ok || response.body === null) throw new Error(`${url}: HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let seen = "";
  let firstAt: number | undefined;
  for await (const chunk of response.body) {
    seen += decoder.decode(chunk, { stream: true });
    if (firstAt === undefined && seen.includes('"content"')) firstAt = performance.now();
  }
  if (firstAt === undefined) throw new Error(`${url}: no content`);
  return firstAt - startedAt;
}

export async function measureAttachments(context: Context, config: AttachmentBenchConfig) {
  const image = pngDataUrl(config.imageBytes);
  const message = "bench tokens=4 delay=0";
  const direct = (withImage: boolean) =>
    JSON.stringify({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "You are Brook, a helpful assistant. Answer clearly and concisely." },
        {
          role: "user",
          content: withImage
            ? [
                { type: "text", text: message },
                { type: "image_url", image_url: { url: image } },
              ]
            : message,
        },
      ],
    });
  const brook = (withImage: boolean) =>
    JSON.stringify({ message, ...(withImage ? { attachments: [{ type: "image", url: image }] } : {}) });
  const kinds = {
    directText: [`${context.targets.upstreamUrl}/chat/completions`, direct(false)],
    directImage: [`${context.targets.upstreamUrl}/chat/completions`, direct(true)],
    brookText: [`${context.targets.brookUrl}/chat/stream`, brook(false)],
    brookImage: [`${context.targets.brookUrl}/chat/stream`, brook(true)],
  } as const;
  const times: Record<keyof typeof kinds, number[]> = {
    directText: [],
    directImage: [],
    brookText: [],
    brookImage: [],
  };
  for (let round = 0; round < config.requests + warmUp; round++) {
    for (const [kind, [url, body]] of Object.entries(kinds) as [keyof typeof kinds, readonly [string, string]][]) {
      const ms = await timeToFirstToken(url, body);
      if (round >= warmUp) times[kind].push(ms);
    }
  }
  const p50 = (kind: keyof typeof kinds) => quantile(times[kind], 0.5);
  const p99 = (kind: keyof typeof kinds) => quantile(times[kind], 0.99);
  const row = {
    requests: config.requests,
    imageBytes: config.imageBytes,
    textAddedP50: round2(p50("brookText") - p50("directText")),
    imageAddedP50: round2(p50("brookImage") - p50("directImage")),
    imageAddedP99: round2(p99("brookImage") - p99("directImage")),
    imageCostP50: round2(p50("brookImage") - p50("directImage") - (p50("brookText") - p50("directText"))),
  };
  context.log(
    `attachments: a ${config.imageBytes} B image adds ${row.imageCostP50} ms at p50 before the upstream call (Brook adds ${row.imageAddedP50} ms p50, ${row.imageAddedP99} ms p99 with it, ${row.textAddedP50} ms without)`,
  );
  return row;
}
