/**
 * A peer for the benchmark: the AI SDK server a user would write, `streamText` on an
 * OpenAI-compatible provider answering `useChat`'s `POST /api/chat` with the UI message stream,
 * on plain node:http.
 *
 * Plain TypeScript that Node runs as it is (type stripping), in its own process like Brook:
 * `OPENAI_BASE_URL`, `PORT`; prints `listening <url>` once ready.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  convertToModelMessages,
  pipeUIMessageStreamToResponse,
  streamText,
  toUIMessageStream,
  type UIMessage,
} from "ai";

const provider = createOpenAICompatible({
  name: "bench",
  baseURL: process.env.OPENAI_BASE_URL ?? "",
  apiKey: process.env.OPENAI_API_KEY ?? "bench",
  includeUsage: true,
});
const model = provider.chatModel(process.env.OPENAI_MODEL ?? "gpt-4o-mini");
const system = "You are Brook, a helpful assistant. Answer clearly and concisely.";

const server = createServer({ keepAliveTimeout: 120_000 }, async (req, res) => {
  if (req.method === "GET" && req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== "POST" || req.url !== "/api/chat") {
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    return;
  }
  let raw = "";
  req.setEncoding("utf8");
  for await (const piece of req) raw += piece;
  let messages: UIMessage[];
  try {
    messages = (JSON.parse(raw) as { messages: UIMessage[] }).messages;
    if (!Array.isArray(messages)) throw new Error("messages must be an array");
  } catch (error) {
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: String(error) }));
    return;
  }
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const result = streamText({
    model,
    system,
    messages: await convertToModelMessages(messages),
    abortSignal: abort.signal,
  });
  pipeUIMessageStreamToResponse({ response: res, stream: toUIMessageStream({ stream: result.stream }) });
});

server.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});
