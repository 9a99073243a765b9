/**
 * An OpenAI-compatible model server that misbehaves on request, on node:http only (no test
 * framework), so it runs inside tests and on its own:
 *
 *   node --import tsx test/support/misbehaving-upstream.ts --port 8123
 *
 * prints its base URL (e.g. http://127.0.0.1:8123/v1). A marker in the last user message picks
 * the behaviour of a chat completion:
 * - `[endless]`: content chunks as fast as the socket takes them, forever, until the client
 *   disconnects; never a finish or usage.
 * - `[stall]`: one content chunk, then silence until the client disconnects; never a finish or usage.
 * - `[one-word:N]`: an answer of N characters without a space, and no usage.
 * - `[no-usage]`: the normal answer without usage.
 * - `[tool-call-no-id]`: `tool_calls: [{ index: 5 }]` (no id, no name), then finish_reason `tool_calls`.
 * - `[huge-chunk:N]`: the answer in one SSE event of N bytes, then finish and usage as usual.
 * - `[redirect]`: 307 to the same request under `/redirected`, which answers normally.
 * - `[many-tools:N]`: N tool calls in one turn (of the first tool offered); the turn with their
 *   results answers "Ran N tools.".
 * Anything else gets a normal answer (streaming or not, usage when asked), and `GET /v1/models` lists models.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON
type Json = any;

export interface MisbehavingUpstream {
  /** The base URL for an OpenAI client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  close(): Promise<void>;
}

export interface MisbehavingOptions {
  /** default 0: any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
}

const normalText = "Hello from the misbehaving upstream.";
const redirectedPrefix = "/redirected";
/** Characters per content chunk of a long answer. */
const pieceChars = 4096;
const endlessPiece = "endless stream of words ".repeat(40);

type Behavior =
  | { kind: "normal"; usage: boolean }
  | { kind: "endless" }
  | { kind: "stall" }
  | { kind: "one-word"; chars: number }
  | { kind: "tool-call-no-id" }
  | { kind: "huge-chunk"; bytes: number }
  | { kind: "redirect" }
  | { kind: "many-tools"; count: number };

export function startMisbehavingUpstream(options: MisbehavingOptions = {}): Promise<MisbehavingUpstream> {
  const server = createServer({ noDelay: true }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EPIPE" && code !== "ECONNRESET" && code !== "ERR_STREAM_DESTROYED") {
        console.error("misbehaving-upstream: handler failed", error);
      }
      res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(":") ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/v1`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const fullPath = new URL(req.url ?? "/", "http://upstream").pathname;
  const redirected = fullPath.startsWith(`${redirectedPrefix}/`);
  const path = redirected ? fullPath.slice(redirectedPrefix.length) : fullPath;
  if (req.method === "GET" && path === "/v1/models") {
    req.resume();
    return sendJson(res, 200, {
      object: "list",
      data: ["gpt-4o-mini", "misbehaving-model"].map((id) => ({ id, object: "model", created: 0, owned_by: "test" })),
    });
  }
  if (req.method !== "POST" || path !== "/v1/chat/completions") {
    req.resume();
    return sendError(res, 404, `No route for ${req.method} ${fullPath}`);
  }
  const body = parseJson(await readBody(req));
  if (body === undefined) return sendError(res, 400, "Invalid JSON body");
  let behavior = behaviorOf(body);
  if (behavior.kind === "redirect") {
    if (!redirected) {
      res.writeHead(307, { location: `${redirectedPrefix}${req.url ?? fullPath}`, "content-length": 0 });
      res.end();
      return;
    }
    behavior = { kind: "normal", usage: true };
  }
  const answer = new Answer(res, body);
  if (behavior.kind === "endless") return answer.endless();
  if (behavior.kind === "stall") return answer.stall();
  if (behavior.kind === "tool-call-no-id") return answer.toolCalls([{ index: 5 }]);
  if (behavior.kind === "many-tools") {
    if (endsWithToolResults(body)) return answer.text(`Ran ${toolResultCount(body)} tools.`, true);
    const name = typeof body.tools?.[0]?.function?.name === "string" ? body.tools[0].function.name : "tool";
    const calls = Array.from({ length: behavior.count }, (_, index) => ({
      index,
      id: `call_many_${index}`,
      type: "function",
      function: { name, arguments: "{}" },
    }));
    return answer.toolCalls(calls);
  }
  if (behavior.kind === "one-word") return answer.text("w".repeat(behavior.chars), false);
  if (behavior.kind === "huge-chunk") return answer.hugeChunk(behavior.bytes);
  return answer.text(normalText, behavior.usage);
}

/** The behaviour the last user message's marker asks for. */
function behaviorOf(body: Json): Behavior {
  const messages: Json[] = Array.isArray(body?.messages) ? body.messages : [];
  const text = textOf(messages.findLast((message) => message?.role === "user")?.content);
  const marker = /\[(endless|stall|one-word|no-usage|tool-call-no-id|huge-chunk|redirect|many-tools)(?::(\d+))?\]/.exec(
    text,
  );
  const count = Number(marker?.[2] ?? 0);
  switch (marker?.[1]) {
    case "endless":
      return { kind: "endless" };
    case "stall":
      return { kind: "stall" };
    case "one-word":
      return { kind: "one-word", chars: count };
    case "no-usage":
      return { kind: "normal", usage: false };
    case "tool-call-no-id":
      return { kind: "tool-call-no-id" };
    case "huge-chunk":
      return { kind: "huge-chunk", bytes: count };
    case "redirect":
      return { kind: "redirect" };
    case "many-tools":
      return { kind: "many-tools", count };
    default:
      return { kind: "normal", usage: true };
  }
}

/** One chat completion, streamed or not as the request asks. */
class Answer {
  readonly #res: ServerResponse;
  readonly #body: Json;
  readonly #id = `chatcmpl-misbehaving-${Date.now().toString(36)}`;
  readonly #created = Math.floor(Date.now() / 1000);
  #closed = false;

  constructor(res: ServerResponse, body: Json) {
    this.#res = res;
    this.#body = body;
    res.once("close", () => {
      this.#closed = true;
    });
  }

  get #streaming(): boolean {
    return this.#body.stream === true;
  }

  get #usageAsked(): boolean {
    return this.#body.stream_options?.include_usage === true;
  }

  async text(text: string, usage: boolean): Promise<void> {
    if (!this.#streaming) return this.#json({ role: "assistant", content: text }, "stop", usage, text.length);
    this.#startStream();
    for (let at = 0; at < text.length && !this.#closed; at += pieceChars) {
      await this.#event(this.#chunk({ content: text.slice(at, at + pieceChars) }));
    }
    await this.#end("stop", usage, Math.ceil(text.length / pieceChars));
  }

  async toolCalls(calls: Json[]): Promise<void> {
    if (!this.#streaming) {
      const complete = calls.map(({ index: _index, ...call }) => call);
      return this.#json({ role: "assistant", content: null, tool_calls: complete }, "tool_calls", true, calls.length);
    }
    this.#startStream();
    await this.#event(this.#chunk({ content: null, tool_calls: calls }));
    await this.#end("tool_calls", true, calls.length);
  }

  /** One content event of `bytes` bytes in all (`data: ` and the blank line included). */
  async hugeChunk(bytes: number): Promise<void> {
    const frame = `data: ${this.#chunk({ content: "" })}\n\n`;
    const content = "h".repeat(Math.max(0, bytes - Buffer.byteLength(frame)));
    if (!this.#streaming) return this.#json({ role: "assistant", content }, "stop", true, 1);
    this.#startStream();
    await this.#event(this.#chunk({ content }));
    await this.#end("stop", true, 1);
  }

  /** Writes as fast as the socket drains, until the client goes away. */
  async endless(): Promise<void> {
    this.#startStream();
    const event = `data: ${this.#chunk({ content: endlessPiece })}\n\n`;
    while (!this.#closed) {
      if (!this.#res.write(event)) await this.#drained();
    }
  }

  /** A model that started and went quiet: nothing more until the client goes away. */
  async stall(): Promise<void> {
    this.#startStream();
    await this.#event(this.#chunk({ content: "Thinking it over" }));
    if (!this.#closed) await new Promise((resolve) => this.#res.once("close", resolve));
  }

  #startStream(): void {
    this.#res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    this.#res.write(`data: ${this.#chunk({ role: "assistant", content: "" })}\n\n`);
  }

  async #end(finishReason: string, usage: boolean, completionTokens: number): Promise<void> {
    if (this.#closed) return;
    await this.#event(this.#chunk({}, finishReason));
    if (usage && this.#usageAsked) {
      await this.#event(JSON.stringify({ ...this.#envelope(), choices: [], usage: this.#usage(completionTokens) }));
    }
    await this.#event("[DONE]");
    this.#res.end();
  }

  #json(message: Json, finishReason: string, usage: boolean, completionTokens: number): void {
    sendJson(this.#res, 200, {
      ...this.#envelope(),
      object: "chat.completion",
      choices: [{ index: 0, message: { refusal: null, ...message }, logprobs: null, finish_reason: finishReason }],
      ...(usage ? { usage: this.#usage(completionTokens) } : {}),
    });
  }

  async #event(data: string): Promise<void> {
    if (this.#closed) return;
    if (!this.#res.write(`data: ${data}\n\n`)) await this.#drained();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#res.off("drain", done);
        this.#res.off("close", done);
        resolve();
      };
      this.#res.once("drain", done);
      this.#res.once("close", done);
    });
  }

  #envelope() {
    return {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: typeof this.#body.model === "string" ? this.#body.model : "misbehaving-model",
    };
  }

  #chunk(delta: Json, finishReason: string | null = null): string {
    return JSON.stringify({ ...this.#envelope(), choices: [{ index: 0, delta, finish_reason: finishReason }] });
  }

  #usage(completionTokens: number) {
    const messages: Json[] = Array.isArray(this.#body.messages) ? this.#body.messages : [];
    const promptTokens = Math.ceil(messages.reduce((n, m) => n + textOf(m?.content).length, 0) / 4);
    return {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
  }
}

function endsWithToolResults(body: Json): boolean {
  return Array.isArray(body?.messages) && body.messages.at(-1)?.role === "tool";
}

function toolResultCount(body: Json): number {
  const messages: Json[] = body.messages;
  let count = 0;
  for (let at = messages.length - 1; at >= 0 && messages[at]?.role === "tool"; at -= 1) count += 1;
  return count;
}

/** Message content is a string or an array of parts; only text parts count. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: Json) => (part?.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, { error: { message, type, param: null, code: null } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Run on its own: print the URL and serve until stopped.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
  const upstream = await startMisbehavingUpstream({
    port: values.port === undefined ? 0 : Number(values.port),
    ...(values.host === undefined ? {} : { host: values.host }),
  });
  console.log(upstream.url);
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
