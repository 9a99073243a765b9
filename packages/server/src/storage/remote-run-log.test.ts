import type { ChatEvent, Usage } from "@brook/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RemoteRunLog, type RunSource, unwrittenSeqMs } from "./remote-run-log.js";

const content = (chunk: string): ChatEvent => ({ type: "content", chunk });
const usage: Usage = {
  input_tokens: 1,
  output_tokens: 1,
  total_tokens: 2,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};
const complete: ChatEvent = {
  type: "complete",
  full_content: "",
  usage,
  finish_reason: "stop",
  timing: { ttft_ms: 1, duration_ms: 1, tokens_per_s: 1 },
};

/** A backend holding one run's events in an array; it wakes its follower as a notification would. */
class ArraySource implements RunSource {
  readonly events: ChatEvent[] = [];
  readonly told: [string, boolean][] = [];
  followed: RemoteRunLog | undefined;
  failure: Error | undefined;
  lostChecks = 0;
  fetches = 0;
  /** What `follow` resolves with: the test holds it to see that nothing is read before. */
  following: Promise<void> = Promise.resolve();

  async fetch(fromSeq: number, max: number): Promise<ChatEvent[]> {
    this.fetches += 1;
    if (this.failure !== undefined) throw this.failure;
    return this.events.slice(fromSeq, fromSeq + Math.min(max, this.events.length));
  }

  follow(view: RemoteRunLog): Promise<void> {
    this.followed = view;
    return this.following;
  }

  unfollow(view: RemoteRunLog): void {
    if (this.followed === view) this.followed = undefined;
  }

  tellProducer(producer: string, present: boolean): void {
    this.told.push([producer, present]);
  }

  async endIfLost(): Promise<void> {
    this.lostChecks += 1;
  }

  /** Appends as the producer would, and notifies. */
  append(...events: ChatEvent[]): void {
    this.events.push(...events);
    this.followed?.wake();
  }
}

const signal = () => AbortSignal.timeout(5_000);

afterEach(() => {
  vi.useRealTimers();
});

describe("RemoteRunLog", () => {
  it("reads what the backend has, then waits for a notification, and stops following at the end", async () => {
    const source = new ArraySource();
    source.append(content("a"));
    const log = new RemoteRunLog("r", undefined, 1, undefined, "producer", source);
    const reader = log.reader(0);
    expect(source.followed).toBe(log);
    expect(await reader.read(10, signal())).toEqual([content("a")]);
    const waiting = reader.read(10, signal());
    source.append(content("b"), complete);
    expect(await waiting).toEqual([content("b"), complete]);
    expect(reader.done).toBe(true);
    expect(log.head).toBe(3);
    expect(log.terminal).toEqual(complete);
    expect(source.followed).toBeUndefined();
  });

  it("tells the producer when its first reader comes and its last leaves", () => {
    const source = new ArraySource();
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    const first = log.reader(0);
    const second = log.reader(0);
    first.close();
    expect(source.told).toEqual([["producer", true]]);
    second.close();
    expect(source.told).toEqual([
      ["producer", true],
      ["producer", false],
    ]);
    expect(source.followed).toBeUndefined();
  });

  it("heartbeats tell the producer its readers are still there, and look for a lost producer when the run is quiet", async () => {
    const source = new ArraySource();
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    log.reader(0);
    log.heartbeat();
    expect(source.lostChecks).toBe(0);
    log.heartbeat();
    expect(source.lostChecks).toBe(1);
    expect(source.told).toHaveLength(3);
  });

  it("ends its reader with one `unavailable` event when the backend goes away", async () => {
    const source = new ArraySource();
    source.failure = new Error("connection lost");
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    const reader = log.reader(0);
    const events = await reader.read(10, signal());
    expect(events).toMatchObject([{ type: "error", code: "unavailable" }]);
    expect(reader.done).toBe(true);
  });

  it("reads the backend only once every new event wakes it (a notification between is not lost)", async () => {
    const source = new ArraySource();
    let followed = () => {};
    source.following = new Promise<void>((resolve) => {
      followed = resolve;
    });
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    const reading = log.reader(0).read(10, signal());
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.fetches).toBe(0);
    followed();
    source.append(content("a"));
    expect(await reading).toEqual([content("a")]);
  });

  it("resumes from a seq its producer has not yet copied to the backend: every later event, once, in order", async () => {
    const source = new ArraySource();
    source.append(content("a"), content("b"));
    const log = new RemoteRunLog("r", undefined, 2, undefined, "producer", source);
    // Its reader saw seq 3 on the producing instance, whose events 2 and 3 wait for the window.
    const reader = log.reader(4);
    const waiting = reader.read(10, signal());
    source.append(content("c"));
    source.append(content("d"), content("e"));
    expect(await waiting).toEqual([content("e")]);
    source.append(complete);
    expect(await reader.read(10, signal())).toEqual([complete]);
    expect(reader.position).toBe(6);
    expect(reader.done).toBe(true);
  });

  it("refuses a seq the run ended before: at once when it has ended, else once it ends", async () => {
    const ended = new ArraySource();
    ended.append(content("a"), complete);
    const finished = new RemoteRunLog("r", undefined, 2, complete, "producer", ended);
    expect(() => finished.reader(3)).toThrow(expect.objectContaining({ code: "bad_request" }));

    const source = new ArraySource();
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    const reading = log.reader(3).read(10, signal());
    source.append(content("a"), complete);
    await expect(reading).rejects.toMatchObject({ code: "bad_request" });
  });

  it("refuses a seq the run does not reach within unwrittenSeqMs", async () => {
    vi.useFakeTimers();
    const source = new ArraySource();
    const log = new RemoteRunLog("r", undefined, 0, undefined, "producer", source);
    const reading = log.reader(3).read(10, signal());
    const refused = expect(reading).rejects.toMatchObject({ code: "bad_request" });
    source.append(content("a"));
    await vi.waitFor(() => expect(source.fetches).toBe(2));
    vi.advanceTimersByTime(unwrittenSeqMs + 1);
    log.wake();
    await refused;
  });
});
