import type { ChatEvent, Usage } from "@brook/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRunLog } from "./memory-run-log.js";
import { MirrorWindow } from "./mirror-window.js";
import { heartbeatValidMs, MirroredRunLog, type RunMirror } from "./mirrored-run-log.js";

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

/** A backend whose answers the test gives, one call at a time. */
class ManualMirror implements RunMirror {
  readonly calls: { first: number; events: ChatEvent[]; terminal: boolean }[] = [];
  readonly breaks: string[] = [];
  readonly usages: Usage[] = [];
  #answers: ((outcome: number | Error) => void)[] = [];

  register(): Promise<void> {
    return Promise.resolve();
  }

  append(first: number, events: readonly ChatEvent[], terminal: boolean): Promise<number> {
    this.calls.push({ first, events: [...events], terminal });
    return new Promise<number>((resolve, reject) => {
      this.#answers.push((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    });
  }

  noteUsage(usage: Usage): void {
    this.usages.push(usage);
  }

  broke(reason: string): void {
    this.breaks.push(reason);
  }

  /** Answers the oldest call on its way. */
  answer(outcome: number | Error = 1): void {
    this.#answers.shift()?.(outcome);
  }
}

function mirrored(mirror: RunMirror, maxPendingBytes?: number, window?: MirrorWindow, unwatched?: MirrorWindow) {
  return new MirroredRunLog(
    new MemoryRunLog("r", { bufferEvents: 1_000, resumable: true }),
    mirror,
    maxPendingBytes,
    window,
    unwatched ?? window,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe("MirroredRunLog", () => {
  it("sends one batch at a time, and what was appended meanwhile together in the next call", async () => {
    const mirror = new ManualMirror();
    const log = mirrored(mirror);
    log.append([content("a")]);
    log.append([content("b")]);
    log.append([content("c"), complete]);
    expect(mirror.calls).toEqual([{ first: 0, events: [content("a")], terminal: false }]);
    mirror.answer();
    await vi.waitFor(() => expect(mirror.calls).toHaveLength(2));
    expect(mirror.calls[1]).toEqual({ first: 1, events: [content("b"), content("c"), complete], terminal: true });
    mirror.answer();
    await log.settled();
    expect(log.broken).toBe(false);
  });

  it("goes on in memory when the backend fails, says so once, and sends nothing more", async () => {
    const mirror = new ManualMirror();
    const log = mirrored(mirror);
    log.append([content("a")]);
    log.append([content("b")]);
    mirror.answer(new Error("connection lost"));
    await log.settled();
    log.append([content("c"), complete]);
    expect(mirror.calls).toHaveLength(1);
    expect(mirror.breaks).toEqual(["connection lost"]);
    expect(log.broken).toBe(true);
    log.noteUsage(usage);
    expect(mirror.usages).toEqual([]);
    expect(log.usage).toEqual(usage);
    const reader = log.reader(0);
    expect(reader.take(10)).toEqual([content("a"), content("b"), content("c"), complete]);
  });

  it("takes a batch refused because the run ended there, or was lost, for a broken copy", async () => {
    for (const [outcome, reason] of [
      [0, "the run was ended there meanwhile"],
      [-1, "the backend lost it"],
    ] as const) {
      const mirror = new ManualMirror();
      const log = mirrored(mirror);
      log.append([content("a")]);
      mirror.answer(outcome);
      await log.settled();
      expect(mirror.breaks).toEqual([reason]);
    }
  });

  it("makes generation wait while the backend lags `maxPendingBytes` behind", async () => {
    const mirror = new ManualMirror();
    const log = mirrored(mirror, 1);
    expect(log.append([content("a")])).toBe(true);
    // One call on its way: this batch waits for it, and fills what may wait.
    expect(log.append([content("b")])).toBe(false);
    let roomy = false;
    const room = log.waitForRoom(AbortSignal.timeout(5_000)).then(() => {
      roomy = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(false);
    mirror.answer();
    await room;
    expect(mirror.calls[1]?.events).toEqual([content("b")]);
  });

  it("counts a reader elsewhere as present until its heartbeats stop", () => {
    vi.useFakeTimers();
    const log = mirrored(new ManualMirror());
    const presence: boolean[] = [];
    log.onPresence((present) => presence.push(present));
    log.remoteReader("other", true);
    expect(presence).toEqual([true]);
    vi.advanceTimersByTime(heartbeatValidMs - 1);
    log.remoteReader("other", true);
    vi.advanceTimersByTime(heartbeatValidMs - 1);
    expect(presence).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(presence).toEqual([true, false]);
    log.remoteReader("other", true);
    log.remoteReader("other", false);
    expect(presence).toEqual([true, false, true, false]);
  });

  describe("with a window", () => {
    it("sends the events that come within the window in one call when it closes", () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, undefined, new MirrorWindow(5));
      log.append([content("a")]);
      vi.advanceTimersByTime(3);
      log.append([content("b")]);
      log.append([content("c")]);
      vi.advanceTimersByTime(1);
      expect(mirror.calls).toEqual([]);
      // Readers here do not wait for the window.
      expect(log.reader(0).take(10)).toEqual([content("a"), content("b"), content("c")]);
      vi.advanceTimersByTime(1);
      expect(mirror.calls).toEqual([{ first: 0, events: [content("a"), content("b"), content("c")], terminal: false }]);
    });

    it("sends a terminal event at once, with what waited for the window", async () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, undefined, new MirrorWindow(5));
      log.append([content("a")]);
      log.append([complete]);
      expect(mirror.calls).toEqual([{ first: 0, events: [content("a"), complete], terminal: true }]);
      mirror.answer();
      await log.settled();
      vi.advanceTimersByTime(5);
      expect(mirror.calls).toHaveLength(1);
    });

    it("sends what a call on its way held back as soon as it is answered, without waiting for another window", async () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, undefined, new MirrorWindow(5));
      log.append([content("a")]);
      vi.advanceTimersByTime(5);
      log.append([content("b")]);
      mirror.answer();
      await vi.waitFor(() => expect(mirror.calls).toHaveLength(2));
      expect(mirror.calls[1]).toEqual({ first: 1, events: [content("b")], terminal: false });
    });

    it("closes the window for every run at once, and a run's end does not wait for it", async () => {
      vi.useFakeTimers();
      const window = new MirrorWindow(5);
      const [first, second] = [new ManualMirror(), new ManualMirror()];
      const one = mirrored(first, undefined, window);
      const other = mirrored(second, undefined, window);
      one.append([content("a")]);
      vi.advanceTimersByTime(4);
      other.append([content("b")]);
      vi.advanceTimersByTime(1);
      expect([first.calls.length, second.calls.length]).toEqual([1, 1]);
      // A run that ends (or a store that closes) sends what waits at once.
      one.append([content("c")]);
      first.answer();
      const settled = one.settled();
      await vi.waitFor(() => expect(first.calls).toHaveLength(2));
      first.answer();
      await settled;
      expect(first.calls[1]?.events).toEqual([content("c")]);
    });

    it("holds events for the longer window while no reader elsewhere follows, and goes back to the short one when one does", () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, undefined, new MirrorWindow(5), new MirrorWindow(50));
      log.append([content("a")]);
      vi.advanceTimersByTime(20);
      log.append([content("b")]);
      vi.advanceTimersByTime(20);
      // Nobody elsewhere waits: several of a paced model's tokens go in one call.
      expect(mirror.calls).toEqual([]);
      vi.advanceTimersByTime(10);
      expect(mirror.calls).toEqual([{ first: 0, events: [content("a"), content("b")], terminal: false }]);
      mirror.answer();
    });

    it("sends what the longer window holds as soon as a reader on another instance follows", async () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, undefined, new MirrorWindow(5), new MirrorWindow(50));
      log.append([content("a")]);
      vi.advanceTimersByTime(10);
      log.remoteReader("other", true);
      expect(mirror.calls).toEqual([{ first: 0, events: [content("a")], terminal: false }]);
      mirror.answer();
      await log.settled();
      // From now on the short window: the next event goes 5 ms later, not 50.
      log.append([content("b")]);
      vi.advanceTimersByTime(5);
      expect(mirror.calls[1]).toEqual({ first: 1, events: [content("b")], terminal: false });
      mirror.answer();
      await log.settled();
      // The reader left (no heartbeat for its validity): the longer window again.
      log.remoteReader("other", false);
      log.append([content("c")]);
      vi.advanceTimersByTime(5);
      expect(mirror.calls).toHaveLength(2);
      vi.advanceTimersByTime(45);
      expect(mirror.calls[2]).toEqual({ first: 2, events: [content("c")], terminal: false });
    });

    it("does not hold generation longer than a full backlog allows: a full batch goes at once", () => {
      vi.useFakeTimers();
      const mirror = new ManualMirror();
      const log = mirrored(mirror, 1, new MirrorWindow(5));
      expect(log.append([content("a")])).toBe(true);
      expect(mirror.calls).toHaveLength(1);
    });
  });
});
