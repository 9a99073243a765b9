import { describe, expect, it } from "vitest";
import type { ChatEvent } from "./chat-event.js";
import { ChatEventParseError, ChatStreamEndedError, type ReceivedChatEvent, readChatEvents } from "./sse-events.js";

const usage = {
  input_tokens: 12,
  output_tokens: 7,
  total_tokens: 19,
  total_cost: 0.0000123,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

const events: ChatEvent[] = [
  { type: "start", message: "开始生成响应...", run_id: "run-1", model: "gpt-4o-mini" },
  { type: "content", chunk: "春风" },
  { type: "content", chunk: "拂面🌸" },
  { type: "content", chunk: " 👋🏽 family: 👨‍👩‍👧\nnew line" },
  {
    type: "complete",
    full_content: "春风拂面🌸 👋🏽 family: 👨‍👩‍👧\nnew line",
    usage,
    finish_reason: "stop",
    timing: { ttft_ms: 12.5, duration_ms: 40, tokens_per_s: 175 },
  },
];

/** The events as Brook writes them, with pings between some of them. */
const wire = events
  .map((event, seq) => `${seq % 2 === 1 ? ": ping\n\n" : ""}id: run-1:${seq}\ndata: ${JSON.stringify(event)}\n\n`)
  .join("");
const bytes = new TextEncoder().encode(wire);

/** `data` as an async iterable of slices cut at `cuts` (byte offsets). */
async function* sliced(data: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    yield data.subarray(from, cut);
    from = cut;
  }
}

/** `data` in slices of `size` bytes. */
function everyNBytes(data: Uint8Array, size: number): number[] {
  const cuts: number[] = [];
  for (let at = size; at < data.length; at += size) cuts.push(at);
  return cuts;
}

async function collect(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<ReceivedChatEvent[]> {
  const received: ReceivedChatEvent[] = [];
  for await (const item of readChatEvents(body)) received.push(item);
  return received;
}

const expected = events.map((event, seq) => ({ id: `run-1:${seq}`, event }));

describe("readChatEvents", () => {
  it("reads a whole stream in one piece, skipping ping comments", async () => {
    expect(await collect(sliced(bytes, []))).toEqual(expected);
  });

  it("reads events split at every byte, including inside multi-byte characters", async () => {
    expect(await collect(sliced(bytes, everyNBytes(bytes, 1)))).toEqual(expected);
  });

  it("reads events split at any slice size", async () => {
    for (const size of [2, 3, 5, 7, 13, 64, 101]) {
      expect(await collect(sliced(bytes, everyNBytes(bytes, size))), `slices of ${size}`).toEqual(expected);
    }
  });

  it("reads events split just inside each multi-byte character", async () => {
    const multiByteStarts: number[] = [];
    for (let at = 0; at < bytes.length; at++) {
      const byte = bytes[at] as number;
      if (byte >= 0xc0) multiByteStarts.push(at + 1);
    }
    expect(multiByteStarts.length).toBeGreaterThan(10);
    expect(await collect(sliced(bytes, multiByteStarts))).toEqual(expected);
  });

  it("reads a web ReadableStream body", async () => {
    const cuts = everyNBytes(bytes, 3);
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for await (const piece of sliced(bytes, cuts)) controller.enqueue(piece);
        controller.close();
      },
    });
    expect(await collect(stream)).toEqual(expected);
  });

  it("reads CRLF line endings and events without an id", async () => {
    const text = `: hello\r\n\r\ndata: ${JSON.stringify(events[1])}\r\n\r\ndata: ${JSON.stringify(events[4])}\r\n\r\n`;
    const received = await collect(sliced(new TextEncoder().encode(text), [7, 20]));
    expect(received).toEqual([
      { id: undefined, event: events[1] },
      { id: undefined, event: events[4] },
    ]);
  });

  it("skips events of other SSE event types", async () => {
    const text = `event: keepalive\ndata: {"not":"brook"}\n\nid: r:0\ndata: ${JSON.stringify(events[4])}\n\n`;
    expect(await collect(sliced(new TextEncoder().encode(text), []))).toEqual([{ id: "r:0", event: events[4] }]);
  });

  it("reads the reasoning events of a model that thinks, and the usage of a server that predates its details", async () => {
    const thinking: ChatEvent[] = [
      { type: "reasoning", chunk: "让我想想" },
      { type: "reasoning", chunk: "……" },
      { type: "content", chunk: "好" },
    ];
    const { cached_input_tokens: _cached, reasoning_tokens: _reasoning, ...olderUsage } = usage;
    const complete = {
      type: "complete",
      full_content: "好",
      full_reasoning: "让我想想……",
      usage: olderUsage,
      finish_reason: "stop",
      timing: { ttft_ms: 3, duration_ms: 4, tokens_per_s: 1, reasoning_ms: 2 },
    };
    const text = [...thinking, complete].map((event) => `data: ${JSON.stringify(event)}\n\n`).join("");
    const received = await collect(
      sliced(new TextEncoder().encode(text), everyNBytes(new TextEncoder().encode(text), 5)),
    );
    expect(received.map((item) => item.event)).toEqual([
      ...thinking,
      { ...complete, usage: { ...olderUsage, cached_input_tokens: 0, reasoning_tokens: 0 } },
    ]);
  });

  it("stops after the terminal event", async () => {
    const after = `id: run-1:5\ndata: ${JSON.stringify({ type: "content", chunk: "too late" })}\n\n`;
    const received = await collect(sliced(new TextEncoder().encode(wire + after), []));
    expect(received).toEqual(expected);
  });

  it("stops after an error event too", async () => {
    const error: ChatEvent = { type: "error", error: "failed", code: "upstream_error", retryable: true, usage };
    const text = `data: ${JSON.stringify(error)}\n\ndata: ${JSON.stringify(events[1])}\n\n`;
    expect(await collect(sliced(new TextEncoder().encode(text), []))).toEqual([{ id: undefined, event: error }]);
  });

  it("yields what arrived, then throws ChatStreamEndedError when the stream ends without a terminal event", async () => {
    const text = `data: ${JSON.stringify(events[1])}\n\ndata: ${JSON.stringify(events[2])}\n\ndata: {"type":"con`;
    const received: ReceivedChatEvent[] = [];
    const reading = (async () => {
      for await (const item of readChatEvents(sliced(new TextEncoder().encode(text), []))) received.push(item);
    })();
    await expect(reading).rejects.toBeInstanceOf(ChatStreamEndedError);
    expect(received.map((item) => item.event)).toEqual([events[1], events[2]]);
  });

  it("cancels a ReadableStream body when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(events[0])}\n\n`)),
      cancel: () => {
        cancelled = true;
      },
    });
    // Only getReader(), as in browsers whose streams are not async iterable.
    const readerOnly = { getReader: () => body.getReader() } as unknown as ReadableStream<Uint8Array>;
    for await (const item of readChatEvents(readerOnly)) {
      expect(item.event.type).toBe("start");
      break;
    }
    expect(cancelled).toBe(true);
  });

  it("throws ChatEventParseError, with the data, for a payload that is not JSON", async () => {
    const text = `data: ${JSON.stringify(events[1])}\n\ndata: {not json\n\n`;
    const received: ReceivedChatEvent[] = [];
    const failure = await (async () => {
      for await (const item of readChatEvents(sliced(new TextEncoder().encode(text), []))) received.push(item);
    })().catch((error: unknown) => error);
    expect(received.map((item) => item.event)).toEqual([events[1]]);
    expect(failure).toBeInstanceOf(ChatEventParseError);
    expect((failure as ChatEventParseError).data).toBe("{not json");
  });

  it("throws ChatEventParseError for JSON that is not a Brook event", async () => {
    for (const payload of ['{"type":"content"}', '{"type":"mystery","chunk":"x"}', "[1,2]", '"text"']) {
      const text = `data: ${payload}\n\n`;
      const failure = await collect(sliced(new TextEncoder().encode(text), [])).catch((error: unknown) => error);
      expect(failure, payload).toBeInstanceOf(ChatEventParseError);
      expect((failure as ChatEventParseError).data).toBe(payload);
    }
  });
});
