/**
 * The load generator: plain node:http with keep-alive agents and a minimal SSE scan (count
 * event markers, note times), so that the client costs as little as possible and the same for
 * every path it compares.
 */
import { Agent, request } from "node:http";
import { type AnswerShape, benchMessage, structuredSchema } from "./answer-shape.js";

/**
 * What a request goes through: the upstream directly, or Brook over REST SSE, the tRPC
 * subscription, the AI SDK's UI message stream (`/api/chat`), OpenAI's streamed chat completions
 * (`/v1/chat/completions`), OpenAI's Responses API streamed (`/v1/responses`), the REST stream asked for a typed answer (`structured`: `output.schema`,
 * so `object` events beside the content), or the non-streaming `POST /chat` (and its direct twin, `stream: false`);
 * or a peer: the hand-written `openai-relay` (the REST stream's request and events) and the
 * `ai-sdk-server` (the UI message stream's).
 */
export type Path =
  | "direct"
  | "rest"
  | "structured"
  | "trpc"
  | "aisdk"
  | "openai"
  | "responses"
  | "direct-json"
  | "rest-json"
  | "trpc-run"
  | "openai-relay"
  | "ai-sdk-server"
  /** `POST /chat/stream` on another build of Brook (`--baseline`). */
  | "baseline";

export interface Targets {
  upstreamUrl: string;
  brookUrl: string;
  /** Where `trpc-run` reads the run it started on `brookUrl` (another instance); default `brookUrl`. */
  readerUrl?: string;
  /** The peers' base URLs, for their paths. */
  peerUrls?: Partial<Record<"openai-relay" | "ai-sdk-server" | "baseline", string>>;
}

export interface RequestResult {
  ok: boolean;
  error?: string;
  /** Time to the first content event, ms. */
  ttftMs: number;
  totalMs: number;
  contents: number;
  /** `object` events (the `structured` path's partial objects). */
  objects: number;
}

export interface RequestOptions {
  agent: Agent;
  /** Local source address (127.0.0.x), to spread connections over more ephemeral ports. */
  localAddress?: string;
  /** Gaps between content events (ms) are pushed here when given. */
  gaps?: number[];
  /** Called once, when the first content event arrives (the stream is open and flowing). */
  onFirstContent?: () => void;
}

/** Per wire format: the marker that starts a content event, and the ones that end a stream. */
const markers: Record<
  "openai" | "responses" | "brook" | "aisdk",
  { content: string; success: string; failure: string }
> = {
  // The bench upstream (and Brook) put `content` first in content deltas; the role chunk starts with `role`.
  openai: { content: '"delta":{"content":"', success: "data: [DONE]", failure: '"error":' },
  // The data line's `type` (the `event:` line above it names the type without quotes).
  responses: {
    content: '"type":"response.output_text.delta"',
    success: '"type":"response.completed"',
    failure: '"type":"response.failed"',
  },
  brook: { content: '"type":"content"', success: '"type":"complete"', failure: '"type":"error"' },
  aisdk: { content: '"type":"text-delta"', success: '"type":"finish"', failure: '"type":"error"' },
};

/** Starts a Brook `object` event (a partial object; only counted on the `structured` path). */
const objectMarker = '"type":"object"';

let chats = 0;

const idleTimeoutMs = 60_000;

export function newAgent(): Agent {
  // Keep every idle connection (the default keeps 256): a capacity step reuses all the connections its warm-up opened.
  // With a socket timeout set, Node's agent also honours the server's `Keep-Alive: timeout=N` hint and drops an idle
  // connection a second before the server would (without one it may reuse a socket the server is closing: ECONNRESET).
  return new Agent({
    keepAlive: true,
    timeout: idleTimeoutMs,
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: Number.POSITIVE_INFINITY,
    keepAliveMsecs: 30_000,
  });
}

/** One request on `path` for an answer of `shape`; never throws (failures are results). */
export async function runRequest(
  path: Path,
  targets: Targets,
  shape: AnswerShape,
  options: RequestOptions,
): Promise<RequestResult> {
  const message = benchMessage(shape);
  const startedAt = performance.now();
  let url = "";
  let method = "POST";
  let body: string | undefined;
  switch (path) {
    case "trpc-run": {
      // chat.start on one instance, chat.events on (maybe) another: what streamChat() does.
      const started = await startRun(`${targets.brookUrl}/trpc/chat.start`, JSON.stringify({ message }), options);
      if (typeof started !== "string") {
        return { ok: false, error: started.error, ttftMs: -1, totalMs: 0, contents: 0, objects: 0 };
      }
      url = `${targets.readerUrl ?? targets.brookUrl}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ run_id: started }))}`;
      method = "GET";
      break;
    }
    case "direct":
    case "direct-json":
      url = `${targets.upstreamUrl}/chat/completions`;
      body = JSON.stringify({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "You are Brook, a helpful assistant. Answer clearly and concisely." },
          { role: "user", content: message },
        ],
        stream: path === "direct",
        ...(path === "direct" ? { stream_options: { include_usage: true } } : {}),
      });
      break;
    case "rest":
    case "openai-relay":
    case "baseline":
      url = `${path === "rest" ? targets.brookUrl : peerUrl(targets, path)}/chat/stream`;
      body = JSON.stringify({ message });
      break;
    case "structured":
      url = `${targets.brookUrl}/chat/stream`;
      body = JSON.stringify({ message, output: { name: "bench_answer", schema: structuredSchema } });
      break;
    case "rest-json":
      url = `${targets.brookUrl}/chat`;
      body = JSON.stringify({ message });
      break;
    case "trpc":
      url = `${targets.brookUrl}/trpc/chat.stream?input=${encodeURIComponent(JSON.stringify({ message }))}`;
      method = "GET";
      break;
    case "aisdk":
    case "ai-sdk-server":
      url = `${path === "aisdk" ? targets.brookUrl : peerUrl(targets, path)}/api/chat`;
      body = JSON.stringify({
        id: `bench-${process.pid}-${++chats}`,
        messages: [{ id: "m", role: "user", parts: [{ type: "text", text: message }] }],
        trigger: "submit-message",
      });
      break;
    case "openai":
      url = `${targets.brookUrl}/v1/chat/completions`;
      body = JSON.stringify({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: message }],
        stream: true,
        stream_options: { include_usage: true },
      });
      break;
    case "responses":
      url = `${targets.brookUrl}/v1/responses`;
      body = JSON.stringify({ model: "gpt-4o-mini", input: message, stream: true });
      break;
  }
  const streaming = path !== "direct-json" && path !== "rest-json";
  const mark =
    markers[
      path === "direct" || path === "direct-json" || path === "openai"
        ? "openai"
        : path === "responses"
          ? "responses"
          : path === "aisdk" || path === "ai-sdk-server"
            ? "aisdk"
            : "brook"
    ];

  return new Promise<RequestResult>((resolve) => {
    let settled = false;
    let ttftMs = -1;
    let contents = 0;
    let objects = 0;
    const structured = path === "structured";
    let lastContentAt = 0;
    let ended = false;
    let failed: string | undefined;
    let carry = "";
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      const totalMs = performance.now() - startedAt;
      resolve(
        error === undefined
          ? { ok: true, ttftMs, totalMs, contents, objects }
          : { ok: false, error, ttftMs, totalMs, contents, objects },
      );
    };
    const req = request(
      url,
      {
        method,
        agent: options.agent,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        headers:
          body === undefined
            ? { accept: "text/event-stream" }
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.setEncoding("latin1");
        if (res.statusCode !== 200) {
          res.resume();
          res.once("end", () => finish(`HTTP ${res.statusCode}`));
          return;
        }
        res.on("data", (chunk: string) => {
          if (!streaming) {
            carry += chunk;
            return;
          }
          const text = carry + chunk;
          const end = text.lastIndexOf("\n\n");
          if (end < 0) {
            carry = text;
            return;
          }
          carry = text.slice(end + 2);
          const now = performance.now();
          for (let at = text.indexOf(mark.content); at >= 0 && at < end; at = text.indexOf(mark.content, at + 1)) {
            contents += 1;
            if (ttftMs < 0) {
              ttftMs = now - startedAt;
              options.onFirstContent?.();
            } else options.gaps?.push(now - lastContentAt);
            lastContentAt = now;
          }
          if (structured) {
            for (let at = text.indexOf(objectMarker); at >= 0 && at < end; at = text.indexOf(objectMarker, at + 1)) {
              objects += 1;
            }
          }
          if (!ended) {
            const failure = text.indexOf(mark.failure);
            if (failure >= 0 && failure < end) failed = "error event";
            const success = text.indexOf(mark.success);
            if (success >= 0 && success < end) ended = true;
          }
        });
        res.once("end", () => {
          if (!streaming) {
            try {
              const parsed = JSON.parse(carry) as { response?: string; choices?: unknown[] };
              if (typeof parsed.response !== "string" && !Array.isArray(parsed.choices)) return finish("bad JSON");
              ttftMs = performance.now() - startedAt;
              contents = shape.tokens;
              return finish();
            } catch {
              return finish("bad JSON");
            }
          }
          if (failed !== undefined) finish(failed);
          else if (!ended) finish("stream ended before its terminal event");
          else if (contents !== shape.tokens) finish(`got ${contents} of ${shape.tokens} content events`);
          else if (structured && objects === 0) finish("no object events");
          else finish();
        });
        res.once("error", (error) => finish(error.message));
      },
    );
    req.once("error", (error) => finish((error as NodeJS.ErrnoException).code ?? error.message));
    // A stream silent this long is stuck: it counts as an error instead of hanging the run.
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)));
    req.end(body);
  });
}

function peerUrl(targets: Targets, peer: "openai-relay" | "ai-sdk-server" | "baseline"): string {
  const url = targets.peerUrls?.[peer];
  if (url === undefined) throw new Error(`no ${peer} running`);
  return url;
}

/** `chat.start`: the run's id, or why it failed. */
export function startRun(url: string, body: string, options: RequestOptions): Promise<string | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent: options.agent,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.once("end", () => {
          const runId = /"run_id":"([^"]+)"/.exec(text)?.[1];
          resolve(
            res.statusCode === 200 && runId !== undefined ? runId : { error: `chat.start: HTTP ${res.statusCode}` },
          );
        });
      },
    );
    req.once("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

/** Runs `count` jobs, at most `concurrency` at a time; returns their results in order. */
export async function runPool<T>(count: number, concurrency: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++) results[index] = await job(index);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** The q-quantile (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(results: readonly RequestResult[]) {
  const good = results.filter((result) => result.ok);
  const errors = results.length - good.length;
  const sampleErrors = [...new Set(results.filter((result) => !result.ok).map((result) => result.error))].slice(0, 3);
  const ttft = good.map((result) => result.ttftMs);
  const total = good.map((result) => result.totalMs);
  return {
    requests: results.length,
    errors,
    sampleErrors,
    ttftP50: quantile(ttft, 0.5),
    ttftP99: quantile(ttft, 0.99),
    totalP50: quantile(total, 0.5),
    totalP99: quantile(total, 0.99),
    contents: good.reduce((sum, result) => sum + result.contents, 0),
    objects: good.reduce((sum, result) => sum + result.objects, 0),
  };
}
