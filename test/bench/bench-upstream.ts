/**
 * A fast OpenAI-compatible chat-completions server for the benchmark, run as its own process.
 *
 * Deterministic answers: the last user message says how many tokens and how far apart
 * (`tokens=200 delay=0`). Chunks are pre-built strings, paced against the stream's start time
 * (no drift), with the role chunk first and the finish_reason and usage chunks last, like the
 * real API. With `delay=0` the whole answer goes out in one burst, as fast as the socket takes it.
 *
 * Prints `listening <base url>` once ready; exits when its parent goes away.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { answerToken, shapeOf, structuredAnswer } from "./answer-shape.js";

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: { role?: string; content?: unknown }[];
  response_format?: { type?: string };
}

let served = 0;

/** Structured answers' chunks, as JSON string literals, per answer length (built once). */
const structuredChunks = new Map<number, string[]>();

function structuredChunksOf(tokens: number): string[] {
  let chunks = structuredChunks.get(tokens);
  if (chunks === undefined) {
    chunks = structuredAnswer(tokens).map((piece) => JSON.stringify(piece));
    structuredChunks.set(tokens, chunks);
  }
  return chunks;
}

async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = "";
  req.setEncoding("utf8");
  for await (const piece of req) raw += piece;
  let body: ChatBody;
  try {
    body = JSON.parse(raw) as ChatBody;
  } catch {
    res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"bad json"}}');
    return;
  }
  const last = body.messages?.findLast((message) => message.role === "user")?.content;
  const shape = shapeOf(typeof last === "string" ? last : "");
  const id = `chatcmpl-bench-${served++}`;
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(body.model ?? "bench-model")}`;
  // `response_format: {type: "json_schema"}` asks for a structured answer: a JSON object in as many chunks.
  const structured = body.response_format?.type === "json_schema" ? structuredChunksOf(shape.tokens) : undefined;
  const token = (index: number) =>
    structured === undefined ? `"${answerToken(index)}"` : (structured[index] as string);
  const usage = `"usage":{"prompt_tokens":12,"completion_tokens":${shape.tokens},"total_tokens":${12 + shape.tokens}}`;

  if (body.stream !== true) {
    let text = "";
    for (let index = 0; index < shape.tokens; index++) {
      text += structured === undefined ? answerToken(index) : JSON.parse(structured[index] as string);
    }
    const payload = `{"id":"${id}","object":"chat.completion","created":0,"model":${JSON.stringify(body.model ?? "bench-model")},"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(text)},"refusal":null},"logprobs":null,"finish_reason":"stop"}],${usage}}`;
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
    res.end(payload);
    return;
  }

  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const contentChunk = (index: number) =>
    `data: ${head},"choices":[{"index":0,"delta":{"content":${token(index)}},"finish_reason":null}]}\n\n`;
  let tail = `data: ${head},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`;
  if (body.stream_options?.include_usage === true) tail += `data: ${head},"choices":[],${usage}}\n\n`;
  tail += "data: [DONE]\n\n";
  const roleChunk = `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;

  let closed = false;
  res.once("close", () => {
    closed = true;
  });

  if (shape.delayMs === 0) {
    // One burst, with backpressure: the answer is as fast as the reader takes it.
    if (!res.write(roleChunk + contentChunk(0))) await drained(res);
    for (let index = 1; index < shape.tokens && !closed; index++) {
      if (!res.write(contentChunk(index))) await drained(res);
    }
    if (!closed) res.end(tail);
    return;
  }

  // Paced: chunk k is due at start + k·delay, whatever the previous timers' lateness.
  const startedAt = performance.now();
  res.write(roleChunk + contentChunk(0));
  let index = 1;
  const next = () => {
    if (closed) return;
    if (index >= shape.tokens) {
      res.end(tail);
      return;
    }
    res.write(contentChunk(index));
    index += 1;
    setTimeout(next, Math.max(0, startedAt + index * shape.delayMs - performance.now()));
  };
  setTimeout(next, Math.max(0, startedAt + shape.delayMs - performance.now()));
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function main(): void {
  const server = createServer({ noDelay: true, keepAliveTimeout: 120_000 }, (req, res) => {
    if (req.method === "POST" && req.url?.endsWith("/chat/completions")) {
      handleChat(req, res).catch(() => res.destroy());
      return;
    }
    if (req.method === "GET" && req.url?.endsWith("/models")) {
      // Brook's start-up check of the model server.
      const list = '{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"bench"}]}';
      res.writeHead(200, { "content-type": "application/json" }).end(list);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
  });
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.listen({ port: 0, host: "127.0.0.1", backlog: 65_535 }, () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`listening http://127.0.0.1:${port}/v1\n`);
  });
  // The benchmark owns this process: when it goes, so do we.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

main();
