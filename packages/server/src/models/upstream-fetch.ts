import type { Readable } from "node:stream";
import { Agent, request } from "undici";

/** The Node stream behind each Response this fetch made, for readers that can take it directly. */
const nodeBodies = new WeakMap<Response, Readable>();

/** Statuses whose Response must have no body. */
const nullBodyStatuses = new Set([101, 204, 205, 304]);

/** Redirects followed (within the same origin only); 307 and 308 keep the method and body. */
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 5;

/**
 * The Node stream of a Response made by `createUpstreamFetch`, taken once: whoever takes it reads
 * the bytes without the WHATWG stream machinery (one promise chain per chunk fewer).
 */
export function takeNodeBody(response: Response): Readable | undefined {
  const body = nodeBodies.get(response);
  nodeBodies.delete(response);
  return body;
}

/**
 * The `fetch` the `openai` SDK uses for model calls: undici's `request` on a keep-alive pool.
 * Global fetch builds a WHATWG Request, Response and body stream for every call, which costs
 * more than the rest of a short run together. This one returns a real Response (the SDK reads
 * its status, headers and error bodies) whose body stream is only built if someone reads it;
 * an event stream's Response carries its body only through the `body` property.
 * Anything it does not handle (a Request object, a streamed body) goes to global fetch.
 * A redirect to the same origin (a proxy that moved the API) is followed; one elsewhere comes
 * back as it is, for the caller to report: Brook's key must not go to another host.
 */
export function createUpstreamFetch(): { fetch: typeof fetch; close: () => Promise<void> } {
  // HTTP/1.1 as tested: undici 8 would otherwise negotiate HTTP/2 with TLS model servers, putting
  // every stream on one connection under the server's concurrent-stream limit.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, allowH2: false });
  const upstreamFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    if (input instanceof Request || (body != null && typeof body !== "string" && !(body instanceof Uint8Array))) {
      return fetch(input, init);
    }
    let url = new URL(input);
    let method = init?.method ?? "GET";
    let sent = body ?? null;
    const headers = plainHeaders(init?.headers);
    let answer = await request(url, {
      method: method as "GET",
      headers,
      body: sent,
      signal: init?.signal ?? null,
      dispatcher,
    });
    for (let hops = 0; hops < maxRedirects && redirectStatuses.has(answer.statusCode); hops += 1) {
      const location = answer.headers.location;
      const target = typeof location === "string" ? URL.parse(location, url.href) : null;
      if (target === null || target.origin !== url.origin) break;
      answer.body.resume();
      // As fetch does: 303, and 301/302 after a POST, ask again with GET and no body.
      if (
        answer.statusCode === 303 ||
        ((answer.statusCode === 301 || answer.statusCode === 302) && method === "POST")
      ) {
        method = "GET";
        sent = null;
        delete headers["content-type"];
        delete headers["content-length"];
      }
      url = target;
      answer = await request(url, {
        method: method as "GET",
        headers,
        body: sent,
        signal: init?.signal ?? null,
        dispatcher,
      });
    }
    const head = { status: answer.statusCode, statusText: answer.statusText, headers: headerPairs(answer.headers) };
    if (nullBodyStatuses.has(answer.statusCode)) {
      answer.body.resume();
      return new Response(null, head);
    }
    const stream = answer.statusCode < 300 && String(answer.headers["content-type"]).startsWith("text/event-stream");
    if (!stream) return new Response(lazyWebStream(answer.body), head);
    // An event stream is read by Brook's stream reader (takeNodeBody): its web stream, which
    // costs memory for as long as the answer streams, is only built if something asks for `body`.
    const response = new Response(null, head);
    let webBody: ReadableStream<Uint8Array> | undefined;
    Object.defineProperty(response, "body", {
      get: () => {
        webBody ??= lazyWebStream(answer.body);
        nodeBodies.delete(response);
        return webBody;
      },
    });
    nodeBodies.set(response, answer.body);
    return response;
  };
  // Runs have ended when Brook closes: what is left are idle keep-alive connections.
  return { fetch: upstreamFetch as typeof fetch, close: () => dispatcher.destroy() };
}

function plainHeaders(headers: RequestInit["headers"]): Record<string, string> {
  const plain: Record<string, string> = {};
  if (headers === undefined) return plain;
  for (const [name, value] of headers instanceof Headers ? headers : new Headers(headers)) plain[name] = value;
  return plain;
}

function headerPairs(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === "string") pairs.push([name, value]);
    else if (value !== undefined) for (const item of value) pairs.push([name, item]);
  }
  return pairs;
}

/** A web stream over `body` that pulls only when read (high-water mark 0). */
function lazyWebStream(body: Readable): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= body[Symbol.asyncIterator]();
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
