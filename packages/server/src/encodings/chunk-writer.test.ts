import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { chunkWriter } from "./chunk-writer.js";

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A server whose one response is written by `respond`; its port. */
async function serve(respond: (res: ServerResponse) => void): Promise<number> {
  const server = createServer((_req, res) => respond(res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** The raw bytes of one response to `request`, as the socket received them. */
function rawResponse(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let raw = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      raw += text;
    });
    socket.on("end", () => resolve(raw));
    socket.on("error", reject);
  });
}

describe("chunkWriter", () => {
  it("writes chunks a client reads back exactly, between the response's own writes and its end", async () => {
    const port = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      // The first write waits for the next tick, to go with the headers.
      expect(chunkWriter(res)).toBe("later");
      setImmediate(() => {
        const write = chunkWriter(res);
        if (typeof write !== "function") throw new Error(`no writer: ${write}`);
        write("data: 你好 🌊\n\n");
        write("");
        // The response's own write waits a tick again: meanwhile the writer says so.
        res.write(": ping\n\n");
        expect(chunkWriter(res)).toBe("later");
        setImmediate(() => {
          (chunkWriter(res) as (text: string) => boolean)("data: last\n\n");
          res.end("data: end\n\n");
        });
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe("data: first\n\ndata: 你好 🌊\n\n: ping\n\ndata: last\n\ndata: end\n\n");
  });

  it("frames each write as one HTTP/1.1 chunk of its size in bytes", async () => {
    const port = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      setImmediate(() => {
        const write = chunkWriter(res);
        if (typeof write === "function") write("é\n");
        res.end();
      });
    });
    const raw = await rawResponse(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(raw.slice(raw.indexOf("\r\n\r\n") + 4)).toBe("3\r\né\n\r\n0\r\n\r\n");
  });

  it("is not given for a response that is not chunked (HTTP/1.0): res.write stays", async () => {
    const seen: boolean[] = [];
    const port = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: a\n\n");
      seen.push(chunkWriter(res) === "never");
      res.end();
    });
    const raw = await rawResponse(port, "GET / HTTP/1.0\r\n\r\n");
    expect(seen).toEqual([true]);
    expect(raw.endsWith("\r\n\r\ndata: a\n\n")).toBe(true);
  });
});
