import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkModelServer } from "./model-server-check.js";

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A model server on loopback answering every request with `listener`; its base URL. */
async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

const check = (baseURL: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  checkModelServer({
    baseURL,
    apiKey: "key",
    model: "gpt-4o-mini",
    timeoutMs: options.timeoutMs ?? 5_000,
    signal: options.signal ?? new AbortController().signal,
  });

describe("checkModelServer", () => {
  it("calls a server that does not answer in time unreachable", async () => {
    const base = await serve(() => {});
    const outcome = await check(base, { timeoutMs: 50 });
    expect(outcome.status).toEqual({
      status: "unreachable",
      detail: "GET /models failed: no answer within 50 ms (check OPENAI_BASE_URL).",
    });
    expect(outcome.warning).toBe(
      `The model server cannot be reached: GET ${base}/models failed (no answer within 50 ms). Check OPENAI_BASE_URL.`,
    );
  });

  it("calls a page that is no model list an error, pointing at OPENAI_BASE_URL", async () => {
    const base = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<html>Sign in</html>");
    });
    expect((await check(base)).status).toEqual({
      status: "error",
      detail: "GET /models answered 200 with text/html, not a list of models (check OPENAI_BASE_URL).",
    });
  });

  it("reports any other failing answer as an error, with the server's words in the warning only", async () => {
    const base = await serve((_request, response) => {
      response.writeHead(503, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "Loading the model, internal node 10.0.0.7." } }));
    });
    const outcome = await check(base);
    expect(outcome.status).toEqual({ status: "error", detail: "GET /models answered 503." });
    expect(outcome.warning).toBe(
      `The model server failed its check: GET ${base}/models answered 503 (Loading the model, internal node 10.0.0.7).`,
    );
  });

  it("ends quietly when stopped", async () => {
    const base = await serve(() => {});
    const stopping = new AbortController();
    const checking = check(base, { signal: stopping.signal });
    stopping.abort();
    expect(await checking).toEqual({
      status: { status: "unchecked", detail: "Brook stopped before the check ended." },
    });
  });
});
