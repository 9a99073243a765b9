/**
 * An OpenAI-compatible fake chat-completions server for tests, on node:http only.
 *
 * It speaks the real wire format closely enough to drive the `openai` SDK, and can be
 * steered per request (delays, errors, cut streams, hangs, tool calls, reasoning, split UTF-8 writes).
 * Concurrent tests can steer their own request by putting `[[fake:{...json...}]]` in the
 * last user message; that JSON is merged over the selected behavior.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { expect, vi } from "vitest";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON
type Json = any;

export interface FakeBehavior {
  /** text to stream; default: "Hello from the fake upstream." */
  text?: string;
  /** alternatively, number of tokens to generate ("tok0 tok1 ..." style words, each one chunk); overrides text */
  tokens?: number;
  /** custom chunks (content deltas) to send verbatim, one SSE event each; overrides text/tokens */
  chunks?: string[];
  /** reasoning pieces streamed before the content, one SSE event each (paced by delayMs like every delta) */
  reasoning?: string[];
  /**
   * the delta field(s) that carry each reasoning piece (default ["reasoning_content"]); several send the
   * same text under each name, as vLLM (both string fields) and OpenRouter (`reasoning` + `reasoning_details`) do;
   * `reasoning_details` pieces are `reasoning.text` entries followed by an encrypted one
   */
  reasoningFields?: ("reasoning_content" | "reasoning" | "reasoning_details")[];
  /** delay in ms before the first chunk */
  firstChunkDelayMs?: number;
  /** delay in ms between chunks */
  delayMs?: number;
  /** respond with this HTTP status and an OpenAI-style JSON error body instead of streaming */
  status?: number;
  /** error message for `status` */
  errorMessage?: string;
  /** with `status`: the OpenAI error `code` (e.g. "insufficient_quota") */
  errorCode?: string;
  /** with `status`: send `retry-after: <seconds>` (instead of the default fast `retry-after-ms: 10` on 429) */
  retryAfterSeconds?: number;
  /** after this many content chunks, destroy the socket (cut stream, no finish_reason, no [DONE]) */
  cutAfter?: number;
  /** after this many content chunks, end the response cleanly but without a finish_reason chunk and without [DONE] */
  endWithoutFinishAfter?: number;
  /** omit the usage chunk even when stream_options.include_usage is true */
  omitUsage?: boolean;
  /**
   * usage numbers to report (default: prompt_tokens = rough count of request message chars/4 rounded up,
   * completion_tokens = number of chunks, reasoning ones included); `cached_tokens` and `reasoning_tokens`
   * go out as `prompt_tokens_details` and `completion_tokens_details` (reasoning_tokens defaults to the
   * number of reasoning chunks when there are any)
   */
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number; reasoning_tokens?: number };
  /** finish_reason to send (default "stop", or "tool_calls" when toolCallDeltas is set) */
  finishReason?: string;
  /** split every SSE event's bytes into separate TCP writes of this many bytes (with setImmediate between) so multi-byte UTF-8 chars are split across writes */
  splitWritesBytes?: number;
  /** send tool-call deltas (raw objects placed in delta.tool_calls, one chunk each) before finishing with finish_reason "tool_calls" */
  toolCallDeltas?: unknown[][];
  /** hang forever (until the client aborts) before sending anything */
  hang?: boolean;
  /** hang forever after this many content chunks */
  hangAfter?: number;
  /** send this raw string as one SSE data payload (e.g. malformed JSON) after the content chunks */
  rawData?: string;
  /** content-type override for the streaming response */
  contentType?: string;
  /**
   * How to answer a turn that carries tool results (its last message is a `tool` message).
   * By default such a turn answers "Tool said: " and the results, joined with " | ".
   */
  afterTools?: FakeBehavior;
  /** answer 200 with this raw body (and `contentType`, default text/html) instead of a completion, e.g. a proxy's login page */
  rawBody?: string;
}

export interface RecordedRequest {
  /** parsed JSON body */
  body: Json;
  headers: IncomingHttpHeaders;
  /** resolves when the request's socket/response closed; `aborted` true if the client went away before the server finished */
  closed: Promise<{ aborted: boolean }>;
}

/** How the server as a whole behaves (per-request behavior is FakeBehavior). */
export interface FakeServerOptions {
  /** When set, every request with another `Authorization: Bearer` key gets OpenAI's 401 `invalid_api_key`. */
  apiKey?: string;
  /** The ids `GET /v1/models` lists; default gpt-4o-mini (Brook's default model) and fake-model. */
  models?: string[];
  /** Listen on this port (default: any free one), e.g. to come back where one was closed. */
  port?: number;
}

export interface FakeUpstream {
  /** e.g. "http://127.0.0.1:PORT/v1" (use as OpenAI baseURL) */
  url: string;
  requests: RecordedRequest[];
  /** The `GET /v1/models` requests, in order (with their headers). */
  modelRequests: { headers: IncomingHttpHeaders }[];
  /**
   * Holds every `GET /v1/models` answer (those waiting and those to come) until the returned
   * function is called.
   */
  holdModels(): () => void;
  /** number of chat-completion responses currently open */
  openStreams(): number;
  /** how many requests were aborted by the client before completion */
  abortedCount(): number;
  /** set the default behavior for all following requests */
  setBehavior(behavior: FakeBehavior | ((body: Json, index: number) => FakeBehavior)): void;
  /** queue behaviors consumed one per request (FIFO) before falling back to the default */
  enqueue(...behavior: FakeBehavior[]): void;
  /** wait until openStreams() === 0 (polling every 10ms, max timeoutMs default 5000, rejects on timeout) */
  waitIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type BehaviorSource = FakeBehavior | ((body: Json, index: number) => FakeBehavior);

const DEFAULT_TEXT = "Hello from the fake upstream.";
const DIRECTIVE = "[[fake:";

/** Everything one response needs; `signal` aborts when the response closes for any reason. */
interface Call {
  res: ServerResponse;
  body: Json;
  behavior: FakeBehavior;
  id: string;
  created: number;
  signal: AbortSignal;
  /** set before a deliberate cut so it is not counted as a client abort */
  state: { cut: boolean };
}

export function startFakeUpstream(initial: FakeBehavior = {}, options: FakeServerOptions = {}): Promise<FakeUpstream> {
  let defaultBehavior: BehaviorSource = initial;
  const queue: FakeBehavior[] = [];
  const requests: RecordedRequest[] = [];
  const modelRequests: { headers: IncomingHttpHeaders }[] = [];
  let modelsHeld: Promise<void> = Promise.resolve();
  const open = new Set<ServerResponse>();
  let aborted = 0;

  const pickBehavior = (body: Json, index: number): FakeBehavior => {
    const base =
      queue.shift() ?? (typeof defaultBehavior === "function" ? defaultBehavior(body, index) : defaultBehavior);
    const behavior = { ...base, ...directiveFrom(body) };
    const results = toolResultsOf(body);
    if (results === undefined) return answers(behavior) ? behavior : { ...behavior, ...jsonAnswer(body) };
    // A second turn: the directive of the user message asked for the tool calls, not for this answer.
    const after = behavior.afterTools ?? {};
    if (answers(after)) return after;
    return { ...after, ...(jsonAnswer(body) ?? { text: `Tool said: ${results.join(" | ")}` }) };
  };

  /** Registers the response as open and settles bookkeeping once it closes. */
  const track = (res: ServerResponse, state: Call["state"]) => {
    const stop = new AbortController();
    open.add(res);
    const closed = new Promise<{ aborted: boolean }>((resolve) => {
      res.on("close", () => {
        open.delete(res);
        // writableFinished is only true once our own res.end() has flushed.
        const wasAborted = !res.writableFinished && !state.cut;
        if (wasAborted) aborted++;
        stop.abort(); // stops timers and pending writes of this call
        resolve({ aborted: wasAborted });
      });
    });
    return { signal: stop.signal, closed };
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse) => {
    const body = parseJson(await readBody(req));
    if (body === undefined) return sendError(res, 400, "Invalid JSON body");
    const index = requests.length;
    const state = { cut: false };
    const { signal, closed } = track(res, state);
    requests.push({ body, headers: req.headers, closed });
    const call: Call = {
      res,
      body,
      behavior: pickBehavior(body, index),
      id: `chatcmpl-fake-${index}`,
      created: Math.floor(Date.now() / 1000),
      signal,
      state,
    };
    try {
      await respond(call);
    } catch (err) {
      // Aborts are expected (client went away, or close()); anything else is a bug in a test setup.
      const code = (err as NodeJS.ErrnoException).code;
      const clientLeft = code === "EPIPE" || code === "ECONNRESET" || code === "ERR_STREAM_DESTROYED";
      if (!signal.aborted && !clientLeft) {
        console.error("fake-upstream: handler failed", err);
        res.destroy();
      }
    }
  };

  const listModels = async (req: IncomingMessage, res: ServerResponse) => {
    modelRequests.push({ headers: req.headers });
    await modelsHeld;
    sendJson(res, 200, {
      object: "list",
      data: (options.models ?? ["gpt-4o-mini", "fake-model"]).map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "fake",
      })),
    });
  };

  const server = createServer({ noDelay: true }, (req, res) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // OpenAI's answer to a wrong key, word for word (its message ends with a full stop).
      req.resume();
      sendError(res, 401, "Incorrect API key provided.", undefined, "invalid_api_key");
    } else if (req.method === "POST" && path === "/v1/chat/completions") {
      void handleChat(req, res);
    } else if (req.method === "GET" && path === "/v1/models") {
      void listModels(req, res);
    } else {
      sendError(res, 404, `No route for ${req.method} ${path}`);
    }
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        requests,
        modelRequests,
        holdModels: () => {
          let release = () => {};
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          modelsHeld = held;
          return () => {
            release();
            if (modelsHeld === held) modelsHeld = Promise.resolve();
          };
        },
        openStreams: () => open.size,
        abortedCount: () => aborted,
        setBehavior: (next) => {
          defaultBehavior = next;
        },
        enqueue: (...behaviors) => {
          queue.push(...behaviors);
        },
        waitIdle: (timeoutMs = 5000) => waitUntil(() => open.size === 0, timeoutMs),
        close: async () => {
          const stopped = new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
          });
          server.closeAllConnections(); // also ends hanging responses
          // 'close' on a response can land after the server's callback; settle bookkeeping first.
          await Promise.all([stopped, ...requests.map((r) => r.closed)]);
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------
// Responding

async function respond(call: Call): Promise<void> {
  const { behavior } = call;
  if (behavior.hang) await hangUntilAbort(call.signal);
  if (behavior.rawBody !== undefined) {
    call.res.writeHead(200, { "content-type": behavior.contentType ?? "text/html" });
    call.res.end(behavior.rawBody);
    return;
  }
  if (behavior.status !== undefined) {
    await pause(call, behavior.firstChunkDelayMs);
    sendError(call.res, behavior.status, behavior.errorMessage, behavior.retryAfterSeconds, behavior.errorCode);
    return;
  }
  await (call.body.stream ? streamCompletion(call) : jsonCompletion(call));
}

async function streamCompletion(call: Call): Promise<void> {
  const { behavior, res } = call;
  res.writeHead(200, {
    "content-type": behavior.contentType ?? "text/event-stream",
    "cache-control": "no-cache",
  });
  // Headers go out at once, like the real API; firstChunkDelayMs delays the first data event.
  res.flushHeaders();
  await pause(call, behavior.firstChunkDelayMs);
  await sendEvent(call, chunk(call, { role: "assistant", content: "" }));

  const deltas = deltasFor(behavior);
  for (let sent = 0; ; sent++) {
    if (await interrupted(call, sent)) return;
    const delta = deltas[sent];
    if (delta === undefined) break;
    if (sent > 0) await pause(call, behavior.delayMs);
    await sendEvent(call, chunk(call, delta));
  }

  if (behavior.rawData !== undefined) await sendEvent(call, behavior.rawData);
  await sendEvent(call, chunk(call, {}, finishReasonFor(behavior)));
  if (call.body.stream_options?.include_usage && !behavior.omitUsage) {
    const usage = usageFor(behavior, call.body, deltas.length);
    await sendEvent(call, JSON.stringify({ ...envelope(call), choices: [], usage }));
  }
  await sendEvent(call, "[DONE]");
  res.end();
}

/** Applies cutAfter / endWithoutFinishAfter / hangAfter once `sent` content chunks are out. */
async function interrupted(call: Call, sent: number): Promise<boolean> {
  const { behavior } = call;
  if (behavior.cutAfter === sent) {
    call.state.cut = true;
    // Every write has already been handed to the OS, so the client still gets it before the FIN.
    call.res.socket?.destroy();
    return true;
  }
  if (behavior.endWithoutFinishAfter === sent) {
    call.res.end();
    return true;
  }
  if (behavior.hangAfter === sent) await hangUntilAbort(call.signal);
  return false;
}

async function jsonCompletion(call: Call): Promise<void> {
  const { behavior } = call;
  await pause(call, behavior.firstChunkDelayMs);
  const toolCalls = behavior.toolCallDeltas ? mergeToolCalls(behavior.toolCallDeltas) : undefined;
  const text = contentPieces(behavior).join("");
  const message: Json = { role: "assistant", content: text || (toolCalls ? null : ""), refusal: null };
  if (behavior.reasoning) message.reasoning_content = behavior.reasoning.join("");
  if (toolCalls) message.tool_calls = toolCalls;
  sendJson(call.res, 200, {
    ...envelope(call),
    object: "chat.completion",
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonFor(behavior) }],
    usage: usageFor(behavior, call.body, deltasFor(behavior).length),
  });
}

// ---------------------------------------------------------------------------
// Content

/** The behavior says what to answer (text, tokens, chunks or tool calls). */
function answers(behavior: FakeBehavior): boolean {
  const { text, tokens, chunks, toolCallDeltas } = behavior;
  return text !== undefined || tokens !== undefined || chunks !== undefined || toolCallDeltas !== undefined;
}

/**
 * A `response_format` honoured: an instance of the `json_schema` (or a small object for
 * `json_object`), streamed in 3-character pieces that cut inside strings and numbers.
 */
function jsonAnswer(body: Json): { chunks: string[] } | undefined {
  const format = body?.response_format;
  if (format?.type !== "json_schema" && format?.type !== "json_object") return undefined;
  const value = format.type === "json_schema" ? instanceOf(format.json_schema?.schema ?? {}, "answer") : { ok: true };
  const text = JSON.stringify(value);
  return { chunks: text.match(/[\s\S]{1,3}/g) ?? [] };
}

/** A value of the schema: every property, one item per array, long numbers and strings to cut. */
function instanceOf(schema: Json, name: string): unknown {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const choice = (schema.anyOf ?? schema.oneOf)?.find((option: Json) => option?.type !== "null");
  if (choice !== undefined) return instanceOf(choice, name);
  const type = Array.isArray(schema.type) ? schema.type.find((option: string) => option !== "null") : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, property]) => [key, instanceOf(property, key)]),
      );
    case "array":
      return [instanceOf(schema.items ?? {}, name), instanceOf(schema.items ?? {}, name)];
    case "integer":
      return 12345;
    case "number":
      return 1234.5;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return `the ${name} "quoted", then more words`;
  }
}

function contentPieces(behavior: FakeBehavior): string[] {
  if (behavior.chunks) return behavior.chunks;
  if (behavior.tokens !== undefined) {
    return Array.from({ length: behavior.tokens }, (_, i) => (i === 0 ? "tok0" : ` tok${i}`));
  }
  // A tool-call-only answer has no text unless a test asks for some.
  if (behavior.text === undefined && behavior.toolCallDeltas) return [];
  // One chunk per word, each keeping its leading whitespace, so joining restores the text.
  return (behavior.text ?? DEFAULT_TEXT).split(/(?=\s)/).filter((p) => p !== "");
}

/** Reasoning deltas first, then content deltas, then one delta per tool-call chunk. */
function deltasFor(behavior: FakeBehavior): Json[] {
  const reasoning = (behavior.reasoning ?? []).map((piece) => reasoningDelta(piece, behavior));
  const content = contentPieces(behavior).map((piece) => ({ content: piece }));
  const tools = (behavior.toolCallDeltas ?? []).map((calls) => ({ content: null, tool_calls: calls }));
  return [...reasoning, ...content, ...tools];
}

/** A reasoning piece as the chosen servers send it: no content (null, as vLLM and DeepSeek do). */
function reasoningDelta(piece: string, behavior: FakeBehavior): Json {
  const delta: Json = { content: null };
  for (const field of behavior.reasoningFields ?? ["reasoning_content"]) {
    if (field === "reasoning_details") {
      delta.reasoning_details = [
        { type: "reasoning.text", text: piece, format: "unknown", index: 0 },
        { type: "reasoning.encrypted", data: "c2VjcmV0IHRob3VnaHRz", format: "unknown", index: 1 },
      ];
    } else delta[field] = piece;
  }
  return delta;
}

function finishReasonFor(behavior: FakeBehavior): string {
  return behavior.finishReason ?? (behavior.toolCallDeltas ? "tool_calls" : "stop");
}

/** Folds streaming tool-call deltas into complete tool calls, as the SDK would. */
function mergeToolCalls(chunks: unknown[][]): Json[] {
  const calls: Json[] = [];
  for (const delta of chunks.flat() as Json[]) {
    const i = typeof delta?.index === "number" ? delta.index : calls.length;
    calls[i] ??= { id: "", type: "function", function: { name: "", arguments: "" } };
    const call = calls[i];
    if (delta.id) call.id = delta.id;
    if (delta.type) call.type = delta.type;
    if (delta.function?.name) call.function.name += delta.function.name;
    if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
  }
  return calls.filter(Boolean);
}

function usageFor(behavior: FakeBehavior, body: Json, chunkCount: number) {
  const { cached_tokens, reasoning_tokens, ...u } = behavior.usage ?? {
    prompt_tokens: Math.ceil(promptChars(body) / 4),
    completion_tokens: chunkCount,
  };
  const thought = reasoning_tokens ?? (behavior.reasoning?.length || undefined);
  return {
    ...u,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    ...(cached_tokens === undefined ? {} : { prompt_tokens_details: { cached_tokens } }),
    ...(thought === undefined ? {} : { completion_tokens_details: { reasoning_tokens: thought } }),
  };
}

function promptChars(body: Json): number {
  const messages: Json[] = Array.isArray(body?.messages) ? body.messages : [];
  return messages.reduce((n, m) => n + textOf(m?.content).length, 0);
}

/** Message content is either a string or an array of parts; only text parts count. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p: Json) => (p?.type === "text" && typeof p.text === "string" ? p.text : "")).join("");
}

/** The contents of the tool messages that end the conversation, or undefined when it does not end with one. */
function toolResultsOf(body: Json): string[] | undefined {
  const messages: Json[] = Array.isArray(body?.messages) ? body.messages : [];
  if (messages.at(-1)?.role !== "tool") return undefined;
  const results: string[] = [];
  for (let at = messages.length - 1; at >= 0 && messages[at]?.role === "tool"; at -= 1) {
    results.unshift(textOf(messages[at].content));
  }
  return results;
}

/** The `[[fake:{...}]]` directive in the last user message, or {} if there is none. */
function directiveFrom(body: Json): FakeBehavior {
  const messages: Json[] = Array.isArray(body?.messages) ? body.messages : [];
  const lastUser = messages.findLast((m) => m?.role === "user");
  const text = textOf(lastUser?.content);
  const start = text.indexOf(DIRECTIVE);
  if (start < 0) return {};
  const from = start + DIRECTIVE.length;
  // The JSON itself may contain "]]" (e.g. toolCallDeltas), so try each candidate end.
  for (let end = text.indexOf("]]", from); end >= 0; end = text.indexOf("]]", end + 1)) {
    const parsed = parseJson(text.slice(from, end));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  }
  return {};
}

// ---------------------------------------------------------------------------
// Wire helpers

function envelope(call: Call) {
  return {
    id: call.id,
    object: "chat.completion.chunk",
    created: call.created,
    model: call.body.model ?? "fake-model",
  };
}

function chunk(call: Call, delta: Json, finishReason: string | null = null): string {
  return JSON.stringify({
    ...envelope(call),
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
}

/** Writes one SSE event, optionally in small slices to split multi-byte characters. */
async function sendEvent(call: Call, data: string): Promise<void> {
  const bytes = Buffer.from(`data: ${data}\n\n`);
  const size = call.behavior.splitWritesBytes;
  if (!size || size <= 0) return write(call, bytes);
  for (let i = 0; i < bytes.length; i += size) {
    await write(call, bytes.subarray(i, i + size));
    await nextTurn(undefined, { signal: call.signal });
  }
}

/** Resolves once the data is handed to the OS, so a later cut cannot drop it. */
function write(call: Call, data: Uint8Array): Promise<void> {
  call.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(call.signal.reason);
    call.signal.addEventListener("abort", onAbort, { once: true });
    call.res.write(data, (err) => {
      call.signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
    });
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message?: string, retryAfterSeconds?: number, code?: string) {
  const type = status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
  // retry-after-ms keeps retries fast when a test allows them.
  const headers: Record<string, string> =
    retryAfterSeconds !== undefined
      ? { "retry-after": String(retryAfterSeconds) }
      : status === 429
        ? { "retry-after-ms": "10" }
        : {};
  const error = { message: message ?? `Fake upstream error ${status}`, type, param: null, code: code ?? null };
  sendJson(res, status, { error }, headers);
}

// ---------------------------------------------------------------------------
// Small async utilities

function pause(call: Call, ms: number | undefined): Promise<void> {
  if (!ms || ms <= 0) return Promise.resolve();
  return sleep(ms, undefined, { signal: call.signal });
}

/** Never resolves; rejects when the response closes. No timer, so it cannot keep the process alive. */
function hangUntilAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
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

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  await vi.waitFor(() => expect(done(), "fake upstream idle").toBe(true), { timeout: timeoutMs, interval: 10 });
}
