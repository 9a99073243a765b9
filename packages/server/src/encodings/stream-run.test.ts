import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatEvent } from "@brook/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRunLog } from "../storage/memory-run-log.js";
import type { RunLogReader } from "../storage/run-log.js";
import { restSseEncoder } from "./rest-sse-encoder.js";
import type { StreamEncoder } from "./stream-encoder.js";
import { closeSignal, streamRun } from "./stream-run.js";

const usage = {
  input_tokens: 1,
  output_tokens: 1,
  total_tokens: 2,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};
const content = (chunk: string): ChatEvent => ({ type: "content", chunk });
const complete: ChatEvent = {
  type: "complete",
  full_content: "ab",
  usage,
  finish_reason: "stop",
  timing: { ttft_ms: 1, duration_ms: 1, tokens_per_s: 1 },
};

interface Served {
  /** The response's head and each piece of its body, as the client's socket received them. */
  status: number;
  headers: IncomingMessage["headers"];
  pieces: string[];
  body: string;
}

const servers: { close(): void }[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const server of servers.splice(0)) server.close();
});

/** Serves one request with `handle`, and reads the whole response as a client would. */
async function serve(
  handle: (res: ServerResponse) => Promise<void>,
  onPiece?: (piece: string) => void,
  onHead?: () => void,
) {
  const server = createServer((_req, res) => void handle(res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise<Served>((resolve, reject) => {
    const req = httpRequest({ port, host: "127.0.0.1", path: "/" }, (response) => {
      onHead?.();
      const pieces: string[] = [];
      response.setEncoding("utf8");
      response.on("data", (piece: string) => {
        pieces.push(piece);
        onPiece?.(piece);
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, pieces, body: pieces.join("") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("streamRun", () => {
  it("sends the events ready at once with the headers in one write, and ends the response with the last", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    log.append([content("a"), content("b"), complete]);
    const served = await serve((res) =>
      streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 15_000, signal: closeSignal(res) }),
    );
    expect(served.status).toBe(200);
    expect(served.headers).toMatchObject({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    expect(served.pieces).toHaveLength(1);
    expect(served.body).toBe(
      [content("a"), content("b"), complete]
        .map((event, seq) => `id: run:${seq}\ndata: ${JSON.stringify(event)}\n\n`)
        .join(""),
    );
    expect(log.readerCount).toBe(0);
  });

  it("sends the headers at once when nothing is ready, then each batch as it comes", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    const arrived: string[] = [];
    let head = false;
    const served = serve(
      (res) => streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 15_000, signal: closeSignal(res) }),
      (piece) => arrived.push(piece),
      () => {
        head = true;
      },
    );
    // The client has the status and headers while the run has written nothing.
    await vi.waitFor(() => expect(head).toBe(true));
    expect(log.head).toBe(0);
    expect(arrived).toEqual([]);
    log.append([content("a")]);
    // The batch goes out on its own, before the run goes on.
    await vi.waitFor(() => expect(arrived).toHaveLength(1));
    expect(arrived[0]).toBe(`id: run:0\ndata: ${JSON.stringify(content("a"))}\n\n`);
    log.append([complete]);
    const { pieces } = await served;
    expect(pieces).toEqual([arrived[0], `id: run:1\ndata: ${JSON.stringify(complete)}\n\n`]);
  });

  it("writes each append to the socket before the append returns once it is caught up, as one HTTP chunk", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    const writes: string[] = [];
    const served = serve((res) => {
      const socket = res.socket as NonNullable<typeof res.socket>;
      const write = socket.write.bind(socket) as (data: string | Uint8Array) => boolean;
      socket.write = ((data: string | Uint8Array) => {
        writes.push(String(data));
        return write(data);
      }) as typeof socket.write;
      return streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 15_000, signal: closeSignal(res) });
    });
    await vi.waitFor(() => expect(log.readerCount).toBe(1));
    // The headers went out while nothing was ready.
    await vi.waitFor(() => expect(writes.join("")).toContain("\r\n\r\n"));
    writes.length = 0;
    const frame = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    log.append([content("a")]);
    // No promise, no turn of the event loop between the producer's append and the socket's write.
    expect(writes).toEqual([frame(`id: run:0\ndata: ${JSON.stringify(content("a"))}\n\n`)]);
    log.append([content("b"), content("c")]);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(
      frame(
        [content("b"), content("c")]
          .map((event, seq) => `id: run:${seq + 1}\ndata: ${JSON.stringify(event)}\n\n`)
          .join(""),
      ),
    );
    log.append([complete]);
    const { body } = await served;
    expect(body).toBe(
      [content("a"), content("b"), content("c"), complete]
        .map((event, seq) => `id: run:${seq}\ndata: ${JSON.stringify(event)}\n\n`)
        .join(""),
    );
    expect(log.readerCount).toBe(0);
  });

  it("stops writing into a full socket and takes up the rest after its drain, every event in order", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 10_000, resumable: true });
    let full = 0;
    const served = serve((res) => {
      const respond = res.write.bind(res) as (text: string) => boolean;
      res.write = ((text: string) => {
        const flowing = respond(text);
        if (!flowing) full += 1;
        return flowing;
      }) as typeof res.write;
      // Writes go straight to the socket once the headers are out.
      const socket = res.socket as NonNullable<typeof res.socket>;
      const write = socket.write.bind(socket) as (data: string | Uint8Array) => boolean;
      socket.write = ((data: string | Uint8Array) => {
        const flowing = write(data);
        if (!flowing) full += 1;
        return flowing;
      }) as typeof socket.write;
      return streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 15_000, signal: closeSignal(res) });
    });
    await vi.waitFor(() => expect(log.readerCount).toBe(1));
    // Large events, one per append, faster than the socket takes them: more than the kernel holds
    // for a socket, as writes go straight to it once the headers are out.
    const big = "x".repeat(32 * 1024);
    for (let index = 0; index < 400; index++) log.append([content(big)]);
    log.append([complete]);
    const { body } = await served;
    expect(full).toBeGreaterThan(0);
    const seqs = [...body.matchAll(/^id: run:(\d+)$/gm)].map((match) => Number(match[1]));
    expect(seqs).toEqual(Array.from({ length: 401 }, (_, seq) => seq));
  });

  it("adds the route's headers and an encoder's start and end around the events", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    log.append([content("x"), complete]);
    const encoder: StreamEncoder = {
      headers: { "content-type": "text/plain" },
      start: () => "<",
      event: (event, seq) => `${seq}:${event.type};`,
      end: () => ">",
      ping: ".",
    };
    const served = await serve((res) =>
      streamRun(res, log.reader(0), encoder, {
        pingMs: 15_000,
        signal: closeSignal(res),
        status: 201,
        headers: { "access-control-allow-origin": "https://app.example" },
      }),
    );
    expect(served).toMatchObject({ status: 201, body: "<0:content;1:complete;>" });
    expect(served.headers["access-control-allow-origin"]).toBe("https://app.example");
  });

  it("pings a silent stream after pingMs", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    let pings = 0;
    const served = serve(
      (res) => streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 300, signal: closeSignal(res) }),
      (piece) => {
        if (piece.includes(": ping")) pings += 1;
      },
    );
    await vi.waitFor(() => expect(log.readerCount).toBe(1));
    await vi.advanceTimersByTimeAsync(200);
    expect(pings).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    await vi.waitFor(() => expect(pings).toBe(1));
    log.append([complete]);
    await served;
  });

  it("writes the encoder's failure when reading the run fails, and closes the response", async () => {
    const failing: RunLogReader = {
      position: 0,
      done: false,
      take: () => [],
      read: async () => {
        throw new Error("storage went away");
      },
      close: () => {},
    };
    const encoder = {
      ...restSseEncoder("run"),
      failure: (error: unknown) => `event: failed\ndata: ${(error as Error).message}\n\n`,
    };
    const served = await serve((res) => streamRun(res, failing, encoder, { pingMs: 15_000, signal: closeSignal(res) }));
    expect(served.body).toBe("event: failed\ndata: storage went away\n\n");
  });

  it("lets go of the run as soon as the client leaves", async () => {
    const log = new MemoryRunLog("run", { bufferEvents: 64, resumable: true });
    const server = createServer((_req, res) => {
      void streamRun(res, log.reader(0), restSseEncoder("run"), { pingMs: 15_000, signal: closeSignal(res) });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const req = httpRequest({ port, host: "127.0.0.1", path: "/" }, (response) => {
      response.once("data", () => req.destroy());
    });
    req.on("error", () => {});
    req.end();
    await vi.waitFor(() => expect(log.readerCount).toBe(1));
    log.append([content("a")]);
    await vi.waitFor(() => expect(log.readerCount).toBe(0));
    expect(log.terminal).toBeUndefined();
  });
});
