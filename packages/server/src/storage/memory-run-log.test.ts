import { getEventListeners } from "node:events";
import type { ChatEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { eventSize } from "./event-size.js";
import { MemoryRunLog } from "./memory-run-log.js";
import type { RunLogOptions } from "./run-log.js";

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
  full_content: "",
  usage,
  finish_reason: "stop",
  timing: { ttft_ms: 1, duration_ms: 1, tokens_per_s: 1 },
};

function newLog(options: Partial<RunLogOptions> = {}): MemoryRunLog {
  return new MemoryRunLog("r", { bufferEvents: 16, resumable: true, ...options });
}

/** An event of 1,000 characters: 1,064 bytes with the overhead every event is counted with. */
const kilo = content("x".repeat(1_000));
const kiloBytes = eventSize(kilo);

/** Appends one event at a time, as a slow model would. */
function appendEach(log: MemoryRunLog, event: ChatEvent): boolean {
  return log.append([event]);
}

async function collect(log: MemoryRunLog, fromSeq: number, signal = new AbortController().signal) {
  const reader = log.reader(fromSeq);
  const events: Array<[number, ChatEvent]> = [];
  try {
    for (;;) {
      const seq = reader.position;
      const batch = await reader.read(Number.POSITIVE_INFINITY, signal);
      for (const [index, event] of batch.entries()) events.push([seq + index, event]);
      if (reader.done) return events;
    }
  } finally {
    reader.close();
  }
}

describe("MemoryRunLog", () => {
  it("keeps what its reader took only when readers may come back for it", () => {
    const kept = (resumable: boolean) => {
      const log = newLog({ bufferEvents: 1_024, resumable });
      const reader = log.reader(0);
      for (let index = 0; index < 200; index++) {
        appendEach(log, content(String(index)));
        reader.take(Number.POSITIVE_INFINITY);
      }
      return { fromStart: () => log.reader(0), latest: log.eventsFrom(199, 1)[0] };
    };
    expect(kept(true).fromStart().position).toBe(0);
    // A run that belongs to one request holds a few events at most, however long the answer.
    const owned = kept(false);
    expect(() => owned.fromStart()).toThrow(BrookError);
    expect(owned.latest).toEqual(content("199"));
  });

  it("a replayable log keeps every event from the first, and never asks the producer to wait", () => {
    const log = newLog({ bufferEvents: 16, replayable: true });
    // Nobody reads at all: generation goes on.
    for (let index = 0; index < 1_000; index += 1) expect(appendEach(log, content(String(index)))).toBe(true);
    const reader = log.reader(0);
    for (let index = 0; index < 1_000; index += 1) reader.take(Number.POSITIVE_INFINITY);
    reader.close();
    expect(log.reader(0).take(2)).toEqual([content("0"), content("1")]);
  });

  it("numbers events from 0 and lets readers start at any seq", async () => {
    const log = newLog();
    log.append([content("a"), content("b")]);
    log.append([complete]);
    expect((await collect(log, 0)).map(([seq]) => seq)).toEqual([0, 1, 2]);
    expect(await collect(log, 2)).toEqual([[2, complete]]);
  });

  it("delivers events appended while a reader waits, in batches, and ends after the terminal event", async () => {
    const log = newLog();
    const reader = log.reader(0);
    const signal = new AbortController().signal;
    const first = reader.read(10, signal);
    log.append([content("a"), content("b")]);
    expect(await first).toEqual([content("a"), content("b")]);
    log.append([content("c"), complete]);
    expect(await reader.read(1, signal)).toEqual([content("c")]);
    expect(reader.done).toBe(false);
    expect(await reader.read(10, signal)).toEqual([complete]);
    expect(reader.done).toBe(true);
    expect(await reader.read(10, signal)).toEqual([]);
  });

  it("tells a listening reader of each append inside it, until the listener is cleared or the reader closes", () => {
    const log = newLog();
    const reader = log.reader(0);
    const taken: ChatEvent[][] = [];
    reader.listen(() => taken.push(reader.take(10)));
    log.append([content("a")]);
    // Synchronously: the events are the reader's before append returns.
    expect(taken).toEqual([[content("a")]]);
    log.append([content("b"), content("c")]);
    expect(taken).toEqual([[content("a")], [content("b"), content("c")]]);
    reader.listen(undefined);
    log.append([content("d")]);
    expect(taken).toHaveLength(2);
    reader.listen(() => taken.push(reader.take(10)));
    reader.close();
    log.append([complete]);
    expect(taken).toHaveLength(2);
  });

  it("accepts exactly one terminal event", () => {
    const log = newLog();
    log.append([complete]);
    expect(() => log.append([content("late")])).toThrow(/already ended/);
    expect(() => newLog().append([complete, content("late")])).toThrow(/already ended/);
  });

  it("asks the producer to wait once a reader lags a whole buffer behind, and resumes it as the reader reads", async () => {
    const log = newLog({ bufferEvents: 16 });
    const reader = log.reader(0);
    let accepted = 0;
    while (appendEach(log, content("x"))) accepted += 1;
    expect(accepted).toBe(15);
    let roomMade = false;
    const waiting = log.waitForRoom(new AbortController().signal).then(() => {
      roomMade = true;
    });
    await Promise.resolve();
    expect(roomMade).toBe(false);
    expect(reader.take(Number.POSITIVE_INFINITY)).toHaveLength(16);
    await waiting;
    expect(roomMade).toBe(true);
    reader.close();
  });

  it("keeps memory bounded: old events leave the window once every reader has them", () => {
    const log = newLog({ bufferEvents: 16 });
    const reader = log.reader(0);
    for (let index = 0; index < 1_000; index += 1) {
      appendEach(log, content("x"));
      reader.take(Number.POSITIVE_INFINITY);
    }
    expect(() => log.reader(0)).toThrow(BrookError);
    expect(log.reader(log.head - 16).position).toBe(log.head - 16);
  });

  it("lets waiting generation go on when a reader joins at the head", async () => {
    const log = newLog({ bufferEvents: 16 });
    while (appendEach(log, content("x"))) {}
    const waiting = log.waitForRoom(new AbortController().signal);
    log.reader(log.head);
    await waiting;
    expect(appendEach(log, content("y"))).toBe(true);
  });

  it("refuses a reader that asks for events the run has not reached", () => {
    const log = newLog();
    log.append([content("a")]);
    expect(() => log.reader(5)).toThrow(/no event 4 yet/);
  });

  it("keeps what a departed reader took but may not have delivered, so that it can resume", async () => {
    const log = newLog({ bufferEvents: 64 });
    const reader = log.reader(0);
    for (let index = 0; index < 200; index += 1) {
      appendEach(log, content("x"));
      reader.take(Number.POSITIVE_INFINITY);
    }
    reader.close();
    // Generation goes on until the parked reader is a whole buffer behind.
    while (appendEach(log, content("x"))) {}
    // The client had received only some of what its reader took when the connection dropped.
    expect(log.reader(190).take(Number.POSITIVE_INFINITY)).toHaveLength(log.head - 190);
  });

  it("a reader that leaves in the middle of what was available can resume from where it stopped", async () => {
    const log = newLog({ bufferEvents: 256 });
    for (let index = 0; index < 250; index += 1) appendEach(log, content("x"));
    const reader = log.reader(0);
    await reader.read(1, new AbortController().signal);
    await reader.read(1, new AbortController().signal);
    reader.close();
    while (appendEach(log, content("x"))) {}
    expect(log.reader(2).take(Number.POSITIVE_INFINITY)).toHaveLength(log.head - 2);
  });

  it("waiting for room stops when the producer's signal aborts", async () => {
    const log = newLog({ bufferEvents: 16 });
    log.reader(0);
    while (appendEach(log, content("x"))) {}
    const controller = new AbortController();
    const waiting = log.waitForRoom(controller.signal);
    controller.abort(new BrookError("timeout"));
    await expect(waiting).rejects.toMatchObject({ code: "timeout" });
  });

  it("tells when the run goes from no reader to some and back", () => {
    const log = newLog();
    const seen: boolean[] = [];
    log.onPresence((present) => seen.push(present));
    const first = log.reader(0);
    const second = log.reader(0);
    first.close();
    second.close();
    second.close();
    log.reader(0);
    expect(seen).toEqual([true, false, true]);
  });

  it("a reader's read rejects when its own signal aborts, and it stays until it closes", async () => {
    const log = newLog();
    const controller = new AbortController();
    const reading = collect(log, 0);
    const reader = log.reader(0);
    const next = reader.read(1, controller.signal);
    controller.abort(new Error("gone"));
    await expect(next).rejects.toThrow("gone");
    expect(log.readerCount).toBe(2);
    reader.close();
    log.append([complete]);
    await reading;
    expect(log.readerCount).toBe(0);
  });

  it("keeps one abort listener per reader however often it waits, and removes it on close", async () => {
    const log = newLog({ bufferEvents: 1024 });
    const reader = log.reader(0);
    const controller = new AbortController();
    for (let index = 0; index < 50; index++) {
      const reading = reader.read(10, controller.signal);
      log.append([content(String(index))]);
      await reading;
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    const waiting = reader.read(10, controller.signal);
    controller.abort(new BrookError("cancelled"));
    await expect(waiting).rejects.toMatchObject({ code: "cancelled" });
    reader.close();
    const other = new AbortController();
    const second = log.reader(reader.position);
    void second.read(10, other.signal);
    expect(getEventListeners(other.signal, "abort")).toHaveLength(1);
    second.close();
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
  });

  describe("in bytes", () => {
    it("counts an event by its text and a fixed overhead, without serializing it", () => {
      expect(kiloBytes).toBe(1_064);
      expect(eventSize(content(""))).toBe(64);
      expect(
        eventSize({ type: "tool_result", id: "c1", name: "search", result: "r".repeat(500), is_error: false }),
      ).toBe(64 + 6 + 500);
    });

    it("asks the producer to wait once a reader lags bufferBytes behind, however few the events", async () => {
      const log = newLog({ bufferEvents: 1_024, bufferBytes: 10_000 });
      const reader = log.reader(0);
      let accepted = 0;
      while (appendEach(log, kilo)) accepted += 1;
      // 9 events (9,576 bytes) fit; the tenth fills the buffer.
      expect(accepted).toBe(9);
      let roomMade = false;
      const waiting = log.waitForRoom(new AbortController().signal).then(() => {
        roomMade = true;
      });
      await Promise.resolve();
      expect(roomMade).toBe(false);
      reader.take(1);
      await waiting;
      expect(roomMade).toBe(true);
    });

    it("keeps a resumable run's window within its byte buffer and a margin, and lets a reader resume within it", () => {
      const log = newLog({ bufferEvents: 1_024, bufferBytes: 20_000 });
      const reader = log.reader(0);
      for (let index = 0; index < 1_000; index += 1) {
        appendEach(log, kilo);
        reader.take(Number.POSITIVE_INFINITY);
        // The window and a quarter more before trimming, plus the event that went over.
        expect(log.keptBytes).toBeLessThan(20_000 * 1.25 + kiloBytes);
      }
      reader.close();
      // A quarter of the buffer behind the reader is still there for a resume.
      expect(log.reader(log.head - 4).position).toBe(log.head - 4);
      expect(() => log.reader(log.head - 40)).toThrow(BrookError);
    });

    it("drops what the reader of a run that belongs to one request took, once it adds up to a batch", () => {
      const log = newLog({ bufferEvents: 1_024, bufferBytes: 20_000, resumable: false });
      const reader = log.reader(0);
      for (let index = 0; index < 1_000; index += 1) {
        appendEach(log, kilo);
        reader.take(Number.POSITIVE_INFINITY);
        expect(log.keptBytes).toBeLessThanOrEqual(20_000 / 4 + kiloBytes);
      }
    });

    it("hands a reader at most a quarter of bufferBytes at once, and always at least one event", () => {
      const log = newLog({ bufferEvents: 1_024, bufferBytes: 20_000 });
      for (let index = 0; index < 10; index += 1) appendEach(log, kilo);
      const huge = content("y".repeat(30_000));
      appendEach(log, huge);
      const reader = log.reader(0);
      expect(reader.take(Number.POSITIVE_INFINITY)).toHaveLength(4);
      expect(reader.take(3)).toHaveLength(3);
      expect(reader.take(Number.POSITIVE_INFINITY)).toHaveLength(3);
      expect(reader.take(Number.POSITIVE_INFINITY)).toEqual([huge]);
    });

    it("a replayable log tells once when it outgrows maxBytes, then holds the producer until the run is aborted", async () => {
      const log = newLog({ bufferEvents: 16, bufferBytes: 4_096, replayable: true, maxBytes: 10_000 });
      let overflows = 0;
      log.onOverflow(() => {
        overflows += 1;
      });
      // Nobody reads: generation goes on, far past the reader buffer, up to the budget.
      let accepted = 0;
      while (appendEach(log, kilo)) accepted += 1;
      expect(accepted).toBe(9);
      expect(overflows).toBe(1);
      expect(appendEach(log, kilo)).toBe(false);
      expect(overflows).toBe(1);
      const controller = new AbortController();
      const waiting = log.waitForRoom(controller.signal);
      controller.abort(new BrookError("run_too_large"));
      await expect(waiting).rejects.toMatchObject({ code: "run_too_large" });
      // The terminal event still goes in, and a replay reads everything from the first event.
      log.append([complete]);
      expect(await collect(log, 0)).toHaveLength(12);
    });
  });
});
