import { getEventListeners } from "node:events";
import type { ChatEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { Run } from "./run.js";

const usage = { input_tokens: 1, output_tokens: 1, total_tokens: 2, total_cost: 0, estimated: false, priced: true };
const content = (chunk: string): ChatEvent => ({ type: "content", chunk });
const complete: ChatEvent = {
  type: "complete",
  full_content: "",
  usage,
  finish_reason: "stop",
  timing: { ttft_ms: 1, duration_ms: 1, tokens_per_s: 1 },
};

function newRun(options: { bufferEvents?: number; graceMs?: number; resumable?: boolean } = {}): Run {
  return new Run({ id: "r", kind: "streaming", model: "m", bufferEvents: 16, graceMs: 60_000, ...options });
}

async function collect(run: Run, fromSeq: number): Promise<Array<[number, ChatEvent]>> {
  const events: Array<[number, ChatEvent]> = [];
  for await (const entry of run.events(fromSeq, new AbortController().signal)) events.push(entry);
  return events;
}

describe("Run", () => {
  it("keeps what its reader took only when readers may come back for it", () => {
    const kept = (resumable: boolean) => {
      const run = newRun({ bufferEvents: 1_024, resumable });
      const reader = run.attach(0);
      for (let index = 0; index < 200; index++) {
        run.append(content(String(index)));
        reader.take();
      }
      return { fromStart: () => run.attach(0), latest: run.eventAt(199) };
    };
    expect(kept(true).fromStart().position).toBe(0);
    // A run that belongs to one request holds a few events at most, however long the answer.
    const owned = kept(false);
    expect(() => owned.fromStart()).toThrow(BrookError);
    expect(owned.latest).toEqual(content("199"));
  });

  it("numbers events from 0 and lets readers attach at any seq", async () => {
    const run = newRun();
    run.append(content("a"));
    run.append(content("b"));
    run.append(complete);
    expect((await collect(run, 0)).map(([seq]) => seq)).toEqual([0, 1, 2]);
    expect(await collect(run, 2)).toEqual([[2, complete]]);
  });

  it("delivers events appended while a reader waits, and ends after the terminal event", async () => {
    const run = newRun();
    const reading = collect(run, 0);
    run.append(content("a"));
    await Promise.resolve();
    run.append(content("b"));
    run.append(complete);
    expect((await reading).map(([, event]) => event.type)).toEqual(["content", "content", "complete"]);
  });

  it("accepts exactly one terminal event", () => {
    const run = newRun();
    run.append(complete);
    expect(() => run.append(content("late"))).toThrow(/already ended/);
  });

  it("asks the producer to wait once a reader lags a whole buffer behind, and resumes it as the reader reads", async () => {
    const run = newRun({ bufferEvents: 16 });
    const reader = run.attach(0);
    let accepted = 0;
    while (run.append(content("x"))) accepted += 1;
    expect(accepted).toBe(15);
    let roomMade = false;
    const waiting = run.waitForRoom(new AbortController().signal).then(() => {
      roomMade = true;
    });
    await Promise.resolve();
    expect(roomMade).toBe(false);
    expect(reader.take()).toHaveLength(16);
    await waiting;
    expect(roomMade).toBe(true);
    reader.close();
  });

  it("keeps memory bounded: old events leave the window once every reader has them", () => {
    const run = newRun({ bufferEvents: 16 });
    const reader = run.attach(0);
    for (let index = 0; index < 1_000; index += 1) {
      run.append(content("x"));
      reader.take();
    }
    expect(() => run.attach(0)).toThrow(BrookError);
    expect(run.attach(run.head - 16).position).toBe(run.head - 16);
  });

  it("lets waiting generation go on when a reader joins at the head", async () => {
    const run = newRun({ bufferEvents: 16 });
    while (run.append(content("x"))) {}
    const waiting = run.waitForRoom(new AbortController().signal);
    run.attach(run.head);
    await waiting;
    expect(run.append(content("y"))).toBe(true);
  });

  it("refuses a reader that asks for events the run has not reached", () => {
    const run = newRun();
    run.append(content("a"));
    expect(() => run.attach(5)).toThrow(/no event 4 yet/);
  });

  it("keeps what a departed reader took but may not have delivered, so that it can resume", async () => {
    const run = newRun({ bufferEvents: 64 });
    const reader = run.attach(0);
    for (let index = 0; index < 200; index += 1) {
      run.append(content("x"));
      reader.take();
    }
    reader.close();
    // Generation goes on until the parked reader is a whole buffer behind.
    while (run.append(content("x"))) {}
    // The client had received only some of what its reader took when the connection dropped.
    expect(run.attach(190).take()).toHaveLength(run.head - 190);
  });

  it("a reader that leaves in the middle of what was available can resume from where it stopped", async () => {
    const run = newRun({ bufferEvents: 256 });
    for (let index = 0; index < 250; index += 1) run.append(content("x"));
    const events = run.events(0, new AbortController().signal);
    await events.next();
    await events.next();
    await events.return(undefined);
    while (run.append(content("x"))) {}
    expect(run.attach(2).take()).toHaveLength(run.head - 2);
  });

  it("waiting for room stops when the run is aborted", async () => {
    const run = newRun({ bufferEvents: 16 });
    run.attach(0);
    while (run.append(content("x"))) {}
    const waiting = run.waitForRoom(run.signal);
    run.abort(new BrookError("timeout"));
    await expect(waiting).rejects.toMatchObject({ code: "timeout" });
  });

  it("aborts at once when its last reader leaves and the grace period is 0", () => {
    const run = newRun({ graceMs: 0 });
    const reader = run.attach(0);
    run.append(content("a"));
    reader.close();
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toMatchObject({ code: "cancelled" });
  });

  it("waits for a reader to come back during the grace period, then gives up", async () => {
    const run = newRun({ graceMs: 30 });
    run.attach(0).close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const returning = run.attach(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(run.signal.aborted).toBe(false);
    returning.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(run.signal.aborted).toBe(true);
  });

  it("a run nobody ever reads is abandoned after the grace period", async () => {
    const run = newRun({ graceMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(run.signal.aborted).toBe(true);
  });

  it("a reader's wait rejects when its own signal aborts, and it leaves the run", async () => {
    const run = newRun();
    const controller = new AbortController();
    const reading = collect(run, 0).catch((error: unknown) => error);
    const events = run.events(0, controller.signal);
    const next = events.next();
    controller.abort(new Error("gone"));
    await expect(next).rejects.toThrow("gone");
    expect(run.readerCount).toBe(1);
    run.append(complete);
    await reading;
    expect(run.readerCount).toBe(0);
  });

  it("keeps one abort listener per reader however often it waits, rejects a wait on abort, and removes it on close", async () => {
    const run = newRun({ bufferEvents: 1024 });
    const reader = run.attach(0);
    const controller = new AbortController();
    for (let index = 0; index < 50; index++) {
      const waiting = reader.wait(controller.signal);
      run.append(content(String(index)));
      await waiting;
      reader.take();
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    const waiting = reader.wait(controller.signal);
    controller.abort(new BrookError("cancelled"));
    await expect(waiting).rejects.toMatchObject({ code: "cancelled" });
    reader.close();
    const other = new AbortController();
    const second = run.attach(reader.position);
    void second.wait(other.signal);
    expect(getEventListeners(other.signal, "abort")).toHaveLength(1);
    second.close();
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
  });
});
