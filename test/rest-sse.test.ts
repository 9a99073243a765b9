import { type ChatEvent, readChatEvents, Stats } from "@brook/shared";
import { afterEach, describe, expect, it } from "vitest";
import { contentOf, type Harness, startHarness, streamEvents, until } from "./support/brook-harness.js";
import { fake, postStreamRaw, readRawStream, terminalsOf } from "./support/sse-text.js";

describe("REST SSE: the wire format", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("sends SSE headers that keep proxies from buffering", async () => {
    harness = await startHarness();
    const { response } = await postStreamRaw(harness.url, { message: "hi" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
  });

  it("writes each event as an `id: <run_id>:<seq>` line and one `data: ` line, seq counting from 0", async () => {
    harness = await startHarness({}, { text: "one two three" });
    const { text, blocks, events } = await postStreamRaw(harness.url, { message: "hi" });
    expect(text.endsWith("\n\n")).toBe(true);
    const start = events[0];
    expect(start?.type).toBe("start");
    const runId = start?.type === "start" ? start.run_id : "";
    const dataBlocks = blocks.filter((block) => !block.comment);
    expect(dataBlocks).toHaveLength(5);
    dataBlocks.forEach((block, seq) => {
      expect(block.lines).toHaveLength(2);
      expect(block.lines[0]).toBe(`id: ${runId}:${seq}`);
      expect(block.lines[1]).toMatch(/^data: \{/);
    });
    expect(events.map((event) => event.type)).toEqual(["start", "content", "content", "content", "complete"]);
  });

  it("sends `: ping` comments while the model is silent, and the stream still parses", async () => {
    harness = await startHarness({ SSE_PING_MS: "200" }, { text: "late answer", firstChunkDelayMs: 800 });
    const { blocks, events } = await postStreamRaw(harness.url, { message: "hi" });
    const pings = blocks.filter((block) => block.comment);
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(pings.every((block) => block.lines.length === 1 && block.lines[0] === ": ping")).toBe(true);
    expect(contentOf(events)).toBe("late answer");
    expect(terminalsOf(events)).toEqual([events.at(-1)]);
  });

  it("delivers UTF-8 split across TCP writes intact, in chunks and full_content", async () => {
    const text = "春风拂面🌸 你好，世界！👋🏽 emoji👨‍👩‍👧 末尾。";
    harness = await startHarness({}, { text, splitWritesBytes: 1 });
    const events = await streamEvents(harness.url, { message: "hi" });
    const chunks = events.filter((event) => event.type === "content").map((event) => event.chunk);
    expect(chunks).toEqual(["春风拂面🌸", " 你好，世界！👋🏽", " emoji👨‍👩‍👧", " 末尾。"]);
    expect(chunks.join("")).not.toContain("\uFFFD");
    const last = events.at(-1);
    expect(last?.type === "complete" && last.full_content).toBe(text);
  });
});

describe("REST SSE: cancelling", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  /** Reads a stream until its first content event, then returns the reader's events so far. */
  async function readUntilContent(body: ReadableStream<Uint8Array>): Promise<ChatEvent[]> {
    const seen: ChatEvent[] = [];
    for await (const { event } of readChatEvents(body)) {
      seen.push(event);
      if (event.type === "content") break;
    }
    return seen;
  }

  it("closing a /chat/stream connection aborts the upstream request and counts the run as cancelled", async () => {
    harness = await startHarness({}, { text: "first second third", hangAfter: 1 });
    const controller = new AbortController();
    const response = await fetch(`${harness.url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
      signal: controller.signal,
    });
    const seen = await readUntilContent(response.body as ReadableStream<Uint8Array>);
    expect(seen.map((event) => event.type)).toEqual(["start", "content"]);
    expect(harness.upstream.openStreams()).toBe(1);
    controller.abort();

    const { upstream, brook } = harness;
    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    const stats = Stats.parse(await (await fetch(`${harness.url}/stats`)).json());
    expect(stats.requests).toMatchObject({ total: 1, streaming: 1, cancelled: 1, succeeded: 0, failed: 0 });
    expect(stats.active_runs).toBe(0);
  });

  it("closing a POST /chat connection aborts the upstream request too", async () => {
    harness = await startHarness({}, { text: "first second", hangAfter: 1 });
    const controller = new AbortController();
    const answer = fetch(`${harness.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    const { upstream, brook } = harness;
    await until(() => upstream.openStreams() === 1);
    controller.abort();
    expect(await answer).toBeInstanceOf(Error);
    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    const stats = Stats.parse(await (await fetch(`${harness.url}/stats`)).json());
    expect(stats.requests).toMatchObject({ non_streaming: 1, cancelled: 1 });
  });
});

describe("REST SSE: GET /chat/stream for EventSource", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const streamUrl = (query: Record<string, string>) =>
    `${harness?.url}/chat/stream?${new URLSearchParams(query).toString()}`;

  it("streams the same events as POST, with system_prompt and temperature from the query", async () => {
    harness = await startHarness({}, { text: "Hello over GET." });
    const response = await fetch(
      streamUrl({ message: "你好", system_prompt: "你是一个诗人", temperature: "0.5", max_tokens: "32" }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { blocks, events } = await readRawStream(response);
    expect(events[0]).toMatchObject({ type: "start", message: "开始生成响应...", model: "gpt-4o-mini" });
    expect(contentOf(events)).toBe("Hello over GET.");
    expect(events.at(-1)).toMatchObject({ type: "complete", full_content: "Hello over GET." });
    expect(terminalsOf(events)).toHaveLength(1);
    expect(blocks.every((block) => block.comment || block.id !== undefined)).toBe(true);
    expect(harness.upstream.requests.at(-1)?.body).toMatchObject({
      messages: [
        { role: "system", content: "你是一个诗人" },
        { role: "user", content: "你好" },
      ],
      temperature: 0.5,
      max_tokens: 32,
    });
  });

  it("resumes after Last-Event-ID without asking the model again, then answers 204 once the run ended", async () => {
    const text = "alpha beta gamma delta epsilon zeta eta theta";
    harness = await startHarness({}, { text, delayMs: 20 });
    const url = streamUrl({ message: "hi" });

    // First connection: take the start event and two chunks, then drop the connection.
    const controller = new AbortController();
    const first = await fetch(url, { signal: controller.signal });
    const firstEvents: { id: string | undefined; event: ChatEvent }[] = [];
    for await (const received of readChatEvents(first.body as ReadableStream<Uint8Array>)) {
      firstEvents.push(received);
      if (firstEvents.length === 3) break;
    }
    controller.abort();
    const lastId = firstEvents.at(-1)?.id as string;
    const start = firstEvents[0]?.event;
    const runId = start?.type === "start" ? start.run_id : "";
    expect(lastId).toBe(`${runId}:2`);

    // The EventSource reconnect: same URL, Last-Event-ID header.
    const second = await fetch(url, { headers: { "last-event-id": lastId } });
    expect(second.status).toBe(200);
    const resumed: { id: string | undefined; event: ChatEvent }[] = [];
    for await (const received of readChatEvents(second.body as ReadableStream<Uint8Array>)) resumed.push(received);
    expect(resumed[0]?.id).toBe(`${runId}:3`);
    expect(resumed.some(({ event }) => event.type === "start")).toBe(false);
    const all = [...firstEvents, ...resumed].map(({ event }) => event);
    expect(contentOf(all)).toBe(text);
    expect(all.at(-1)).toMatchObject({ type: "complete", full_content: text });
    expect(harness.upstream.requests).toHaveLength(1);

    // Reconnecting after the terminal event was delivered: nothing left, so 204 stops the EventSource.
    const terminalId = resumed.at(-1)?.id as string;
    const third = await fetch(url, { headers: { "last-event-id": terminalId } });
    expect(third.status).toBe(204);
    expect(await third.text()).toBe("");
    expect(harness.upstream.requests).toHaveLength(1);
  });

  it("answers 204 to a Last-Event-ID of a run it does not know", async () => {
    harness = await startHarness();
    const response = await fetch(streamUrl({ message: "hi" }), { headers: { "last-event-id": "no-such-run:4" } });
    expect(response.status).toBe(204);
    expect(harness.upstream.requests).toHaveLength(0);
  });

  it("does not start a model call for HEAD /chat/stream (link checkers, prefetchers)", async () => {
    harness = await startHarness();
    const response = await fetch(streamUrl({ message: "hi" }), { method: "HEAD" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST, GET");
    expect(harness.upstream.requests).toHaveLength(0);
  });

  it("ignores Last-Event-ID on POST /chat/stream: the body's request always runs", async () => {
    harness = await startHarness({}, { text: "fresh answer" });
    const events = await streamEvents(
      harness.url,
      { message: "hi" },
      { headers: { "content-type": "application/json", "last-event-id": "no-such-run:4" } },
    );
    expect(contentOf(events)).toBe("fresh answer");
    expect(harness.upstream.requests).toHaveLength(1);
  });

  it("steers each GET stream by its own message (no cross-talk)", async () => {
    harness = await startHarness();
    const texts = ["GET one says this.", "GET two says that.", "GET three says more."];
    const results = await Promise.all(
      texts.map(async (text) => {
        const response = await fetch(streamUrl({ message: `hi ${fake({ text, delayMs: 2 })}` }));
        return (await readRawStream(response)).events;
      }),
    );
    results.forEach((events, i) => {
      expect(contentOf(events)).toBe(texts[i]);
    });
  });
});
