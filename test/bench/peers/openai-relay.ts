/**
 * A peer for the benchmark: the relay a user would write by hand with Fastify and the `openai` SDK,
 * speaking the seed's `POST /chat/stream` (`start`, `content`…, `complete` or `error`).
 *
 * Plain TypeScript that Node runs as it is (type stripping), in its own process like Brook:
 * `OPENAI_BASE_URL`, `PORT`; prints `listening <url>` once ready.
 */
import Fastify from "fastify";
import OpenAI from "openai";

const openai = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY ?? "bench" });
const model = process.env.OPENAI_MODEL ?? "gpt-4o-mini";
const system = "You are Brook, a helpful assistant. Answer clearly and concisely.";

const app = Fastify({ logger: false, keepAliveTimeout: 120_000 });

app.get("/health", async () => ({ status: "ok" }));

app.post<{ Body: { message?: unknown } }>("/chat/stream", async (request, reply) => {
  const message = request.body?.message;
  if (typeof message !== "string" || message.trim() === "") {
    return reply.code(400).send({ error: "message must be a non-empty string" });
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const send = (event: object) => res.write(`data: ${JSON.stringify(event)}\n\n`);
  const abort = new AbortController();
  res.once("close", () => abort.abort());

  send({ type: "start", message: "Generating a response…" });
  let full = "";
  let usage: OpenAI.CompletionUsage | undefined;
  try {
    const stream = await openai.chat.completions.create(
      {
        model,
        messages: [
          { role: "system", content: system },
          { role: "user", content: message },
        ],
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal: abort.signal },
    );
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content;
      if (text) {
        full += text;
        send({ type: "content", chunk: text });
      }
      if (chunk.usage) usage = chunk.usage;
    }
    send({
      type: "complete",
      full_content: full,
      usage: {
        input_tokens: usage?.prompt_tokens ?? 0,
        output_tokens: usage?.completion_tokens ?? 0,
        total_tokens: usage?.total_tokens ?? 0,
      },
    });
  } catch (error) {
    if (!abort.signal.aborted) send({ type: "error", error: error instanceof Error ? error.message : String(error) });
  }
  res.end();
});

const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" });
process.stdout.write(`listening ${address}\n`);
