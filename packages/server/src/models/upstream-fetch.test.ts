import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamFetch, takeNodeBody } from "./upstream-fetch.js";

let server: Server;
let base: string;
let connections = 0;
const seen: { method?: string | undefined; authorization?: string | undefined; body: string }[] = [];
let closedEarly = 0;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = "";
    for await (const piece of req) body += piece;
    seen.push({ method: req.method, authorization: req.headers.authorization, body });
    if (req.url === "/missing") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"no such model"}}');
    } else if (req.url === "/moved") {
      res.writeHead(307, { location: "/v2/chat" }).end();
    } else if (req.url === "/elsewhere") {
      res.writeHead(307, { location: "http://other.example/v1/chat" }).end();
    } else if (req.url === "/empty") {
      res.writeHead(204).end();
    } else if (req.url === "/endless") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      res.once("close", () => {
        if (!res.writableFinished) closedEarly += 1;
      });
    } else {
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req-7" });
      res.end("data: hello\n\n");
    }
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("createUpstreamFetch", () => {
  it("follows a 307 within the same origin with the same method, headers and body, and not one elsewhere", async () => {
    const upstream = createUpstreamFetch();
    const init = { method: "POST", headers: { authorization: "Bearer k" }, body: '{"moved":true}' };
    const moved = await upstream.fetch(`${base}/moved`, init);
    expect(moved.status).toBe(200);
    expect(await new Response(moved.body).text()).toBe("data: hello\n\n");
    expect(seen.at(-1)).toEqual({ method: "POST", authorization: "Bearer k", body: '{"moved":true}' });
    // Brook's key must not go to another host: the redirect comes back for the caller to report.
    const elsewhere = await upstream.fetch(`${base}/elsewhere`, init);
    expect(elsewhere.status).toBe(307);
    expect(elsewhere.headers.get("location")).toBe("http://other.example/v1/chat");
    await upstream.close();
  });

  it("sends method, headers and body; answers with status, headers and the body, over kept-alive connections", async () => {
    const upstream = createUpstreamFetch();
    connections = 0;
    for (let index = 0; index < 10; index++) {
      const response = await upstream.fetch(`${base}/chat`, {
        method: "POST",
        headers: new Headers({ authorization: "Bearer k", "content-type": "application/json" }),
        body: `{"n":${index}}`,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe("req-7");
      expect(await new Response(response.body).text()).toBe("data: hello\n\n");
    }
    expect(seen.slice(-10)).toEqual(
      Array.from({ length: 10 }, (_, n) => ({ method: "POST", authorization: "Bearer k", body: `{"n":${n}}` })),
    );
    // Kept alive: undici may open a second connection while the first is being freed, no more.
    expect(connections).toBeLessThanOrEqual(2);
    await upstream.close();
  });

  it("hands the Node stream of the body to one reader, once", async () => {
    const upstream = createUpstreamFetch();
    const response = await upstream.fetch(`${base}/chat`, { method: "POST", body: "{}" });
    const body = takeNodeBody(response);
    expect(body).toBeDefined();
    expect(takeNodeBody(response)).toBeUndefined();
    let text = "";
    for await (const piece of body ?? []) text += piece;
    expect(text).toBe("data: hello\n\n");
    await upstream.close();
  });

  it("lets the SDK read an error body, and gives null-body statuses no body", async () => {
    const upstream = createUpstreamFetch();
    const missing = await upstream.fetch(`${base}/missing`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { message: "no such model" } });
    const empty = await upstream.fetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    await upstream.close();
  });

  it("closes the upstream request when its signal aborts mid-body", async () => {
    const upstream = createUpstreamFetch();
    const controller = new AbortController();
    const response = await upstream.fetch(`${base}/endless`, { signal: controller.signal });
    const body = takeNodeBody(response);
    const before = closedEarly;
    const reading = (async () => {
      for await (const _ of body ?? []);
    })();
    controller.abort();
    await expect(reading).rejects.toThrow();
    await expect.poll(() => closedEarly).toBe(before + 1);
    await upstream.close();
  });
});
