import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createBrookClient } from "@brook/client";
import { ErrorBody } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { serverRun, streamEvents, until } from "./support/brook-harness.js";
import { harness } from "./support/per-test.js";
import { seededRandom, testSeed } from "./support/seeded-random.js";

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
}

/** Sends raw bytes to Brook and resolves with everything it answered once the socket closes. */
function rawSocket(url: string): { socket: Socket; received: () => string; closed: Promise<void> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  let received = "";
  socket.on("data", (data) => {
    received += data.toString("utf8");
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => received, closed };
}

function postRequest(path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: brook\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe("clients that vanish", () => {
  it(`hundreds of disconnects at random points (seed ${testSeed}) leave no upstream stream, no active run, and memory settles`, async () => {
    const { url, upstream, brook } = await harness(
      { RUN_GRACE_MS: "100", RUN_RETENTION_MS: "0" },
      { tokens: 40, delayMs: 4 },
    );
    const client = createBrookClient({ url });
    const next = seededRandom();
    const random = (max: number) => Math.floor(next() * max);

    const leaveAfter = async (ms: number, work: (signal: AbortSignal) => Promise<unknown>) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), ms);
      await work(controller.signal).catch(() => {});
      clearTimeout(timer);
    };
    const readBody = async (response: Response) => {
      for await (const _chunk of response.body ?? []) {
        // keep reading until the abort
      }
    };
    const json = { "content-type": "application/json" };
    const kinds = [
      // REST stream, dropped before or during the answer.
      (ms: number) =>
        leaveAfter(ms, async (signal) =>
          readBody(
            await fetch(`${url}/chat/stream`, { method: "POST", headers: json, body: '{"message":"a"}', signal }),
          ),
        ),
      // EventSource-style stream (resumable: freed after the grace period).
      (ms: number) =>
        leaveAfter(ms, async (signal) => readBody(await fetch(`${url}/chat/stream?message=b`, { signal }))),
      // Non-streaming answer, abandoned.
      (ms: number) =>
        leaveAfter(ms, (signal) =>
          fetch(`${url}/chat`, { method: "POST", headers: json, body: '{"message":"c"}', signal }),
        ),
      // Typed client, aborted.
      (ms: number) =>
        leaveAfter(ms, async (signal) => {
          for await (const _event of client.streamChat({ message: "d" }, { signal })) {
            // until the abort
          }
        }),
      // A socket cut without a goodbye, possibly mid-request.
      async (ms: number) => {
        const { socket, closed } = rawSocket(url);
        const request = postRequest("/chat/stream", '{"message":"e"}');
        const cutAt = random(request.length + 1);
        socket.write(request.slice(0, cutAt));
        if (next() < 0.5) socket.write(request.slice(cutAt));
        await sleep(ms);
        socket.destroy();
        await closed;
      },
    ];

    const wave = async (count: number) => {
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        jobs.push(kinds[i % kinds.length]!(random(200)));
        if (jobs.length >= 25) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
      await until(() => brook.services.control.activeCount === 0, 10_000);
      await upstream.waitIdle(10_000);
    };

    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
    await wave(50);
    // Load what is loaded once (the tokenizer Brook counts with when a server reports no usage).
    await streamEvents(url, { message: 'warm up [[fake:{"omitUsage":true}]]' });
    const before = await settledHeap();
    const timersBefore = timers();
    await wave(300);

    expect(brook.services.control.activeCount).toBe(0);
    expect(upstream.openStreams()).toBe(0);
    await until(() => brook.services.store.size === 0, 5_000);
    // Everything that was asked for ended: each model call finished or was aborted.
    const closed = await Promise.all(upstream.requests.map((request) => request.closed));
    expect(closed.length).toBeGreaterThan(0);
    const after = await settledHeap();
    console.info(
      `after 300 abandoned requests: heap ${((after - before) / 1024 / 1024).toFixed(1)} MiB more, timers ${timersBefore} → ${timers()}`,
    );
    // No timer is left behind that would keep the process alive.
    expect(timers()).toBeLessThanOrEqual(timersBefore + 10);
    // Generous: the point is that 300 abandoned runs do not stay in memory (each would hold its log).
    expect(after - before, "heap growth in bytes").toBeLessThan(40 * 1024 * 1024);
    // And the server still answers normally.
    const events = await streamEvents(url, { message: "still here?" });
    expect(events.at(-1)?.type).toBe("complete");
  }, 120_000);
});

describe("clients that stop reading", () => {
  it("a paused reader holds generation back (bounded log, upstream backpressure) and loses nothing when it reads on", async () => {
    const chunkCount = 3_000;
    const chunk = "x".repeat(10_000);
    const { url, brook, upstream } = await harness(
      { RUN_BUFFER_EVENTS: "16" },
      { chunks: Array(chunkCount).fill(chunk) },
    );
    const { socket, received, closed } = rawSocket(url);
    socket.write(postRequest("/chat/stream", '{"message":"a long answer please"}'));
    await until(() => /"run_id":"([^"]+)"/.test(received()));
    socket.pause();
    const runId = /"run_id":"([^"]+)"/.exec(received())?.[1] ?? "";
    const run = await serverRun(brook, runId);
    expect(run).toBeDefined();

    // Generation stops once the socket buffers are full: the head stops moving, well short of the answer.
    let head = -1;
    await until(async () => {
      const previous = head;
      head = run?.head ?? 0;
      await sleep(500);
      return run?.head === previous && previous === head;
    }, 15_000);
    expect(run?.terminal).toBeUndefined();
    expect(run?.head).toBeLessThan(chunkCount / 2);
    expect(upstream.openStreams()).toBe(1);
    await sleep(1_000);
    expect(run?.head).toBe(head);

    // Reading on delivers the whole answer, in order, with one complete.
    let total = 0;
    socket.removeAllListeners("data");
    let tail = "";
    socket.on("data", (data) => {
      const text = data.toString("utf8");
      total += text.split(chunk).length - 1;
      tail = (tail + text).slice(-4_000);
    });
    socket.resume();
    // The response ends (chunked encoding's last chunk) after the complete event.
    await until(() => tail.endsWith("\r\n0\r\n\r\n"), 60_000);
    socket.destroy();
    await closed;
    // Chunks split across reads are not counted above; the complete event proves the rest.
    expect(total).toBeGreaterThan(0);
    expect(run?.terminal?.type).toBe("complete");
    expect(run?.terminal?.type === "complete" && run.terminal.full_content.length).toBe(chunkCount * chunk.length);
  }, 90_000);
});

describe("slow requests (slowloris)", () => {
  it("closes a connection whose headers trickle in slower than HEADERS_TIMEOUT_MS", async () => {
    const { url } = await harness({ HEADERS_TIMEOUT_MS: "500", REQUEST_TIMEOUT_MS: "1000" });
    const { socket, received, closed } = rawSocket(url);
    socket.write("GET /health HTTP/1.1\r\nHost: brook\r\n");
    let dripping = true;
    void closed.then(() => {
      dripping = false;
    });
    void (async () => {
      for (let i = 0; dripping && i < 200; i++) {
        await sleep(100);
        if (dripping) socket.write("X");
      }
    })();
    // The test's own timeout fails it if the connection is never closed.
    await closed;
    dripping = false;
    // Brook says why, in its own shape, before closing.
    const [head = "", body = ""] = received().split("\r\n\r\n", 2);
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(ErrorBody.parse(JSON.parse(body))).toMatchObject({ code: "request_timeout", retryable: true });
  });

  it("closes a connection whose body trickles in slower than REQUEST_TIMEOUT_MS", async () => {
    const { url, upstream } = await harness({ HEADERS_TIMEOUT_MS: "500", REQUEST_TIMEOUT_MS: "1000" });
    const { socket, closed } = rawSocket(url);
    const body = '{"message":"slow body"}';
    socket.write(postRequest("/chat", body).slice(0, -body.length));
    let dripping = true;
    void (async () => {
      for (const character of body.slice(0, -1)) {
        if (!dripping) return;
        await sleep(150);
        if (dripping) socket.write(character);
      }
    })();
    await closed;
    dripping = false;
    expect(upstream.requests).toHaveLength(0);
  });

  it("does not cut an answer that streams for longer than REQUEST_TIMEOUT_MS", async () => {
    const { url } = await harness(
      { HEADERS_TIMEOUT_MS: "300", REQUEST_TIMEOUT_MS: "500" },
      { tokens: 12, delayMs: 100 },
    );
    const events = await streamEvents(url, { message: "take your time" });
    expect(events.at(-1)?.type).toBe("complete");
  });
});
