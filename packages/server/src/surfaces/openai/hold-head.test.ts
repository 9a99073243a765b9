import { type ChatEvent, emptyUsage } from "@brook/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRunLog } from "../../storage/memory-run-log.js";
import { holdUntilShown, prepend } from "./hold-head.js";

const start: ChatEvent = { type: "start", message: "…", run_id: "r", model: "m" };
const hidden: ChatEvent = { type: "tool_call", id: "c", name: "add", arguments: "{}" };
const content: ChatEvent = { type: "content", chunk: "hi" };
const callers = new Set(["get_weather"]);

function logWith(...events: ChatEvent[]) {
  const log = new MemoryRunLog("r", { bufferEvents: 64, resumable: false });
  log.append(events);
  return log;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("holdUntilShown", () => {
  it("holds until the first event the caller sees, past Brook's own tool calls", async () => {
    const log = logWith(start, hidden);
    const holding = holdUntilShown(log.reader(0), callers, new AbortController().signal, 1_000);
    await vi.advanceTimersByTimeAsync(10);
    log.append([content]);
    expect(await holding).toEqual({ events: [start, hidden, content], shown: true });
  });

  it("a call of the caller's own tool is shown too", async () => {
    const call: ChatEvent = { type: "tool_call", id: "w", name: "get_weather", arguments: "{}" };
    const held = await holdUntilShown(logWith(start, call).reader(0), callers, new AbortController().signal, 1_000);
    expect(held.shown).toBe(true);
  });

  it("stops holding after maxMs with what there is, and at the run's end", async () => {
    const log = logWith(start, hidden);
    const holding = holdUntilShown(log.reader(0), callers, new AbortController().signal, 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await holding).toEqual({ events: [start, hidden], shown: false });
    expect(vi.getTimerCount()).toBe(0);
    const error: ChatEvent = {
      type: "error",
      error: "no",
      code: "upstream_rate_limited",
      retryable: true,
      usage: emptyUsage,
    };
    const ended = await holdUntilShown(logWith(start, error).reader(0), callers, new AbortController().signal, 1_000);
    expect(ended).toEqual({ events: [start, error], shown: false });
  });

  it("rejects when the caller leaves", async () => {
    const client = new AbortController();
    const holding = holdUntilShown(logWith(start).reader(0), callers, client.signal, 1_000);
    client.abort();
    await expect(holding).rejects.toBeDefined();
  });
});

describe("prepend", () => {
  it("hands out the held events first, then the reader's", async () => {
    const log = logWith(start, content);
    const reader = log.reader(0);
    const held = reader.take(1);
    const joined = prepend(held, reader);
    expect(joined.position).toBe(0);
    expect(joined.take(10)).toEqual([start]);
    expect(joined.position).toBe(1);
    expect(await joined.read(10, new AbortController().signal)).toEqual([content]);
  });
});
