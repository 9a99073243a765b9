import { afterEach, describe, expect, it, vi } from "vitest";
import { CallClock } from "./call-clock.js";

describe("CallClock", () => {
  afterEach(() => vi.useRealTimers());

  it("aborts after its time, not counting the pauses (overlapping ones once)", async () => {
    vi.useFakeTimers();
    const clock = new CallClock(1_000);
    await vi.advanceTimersByTimeAsync(600);
    clock.pause(true);
    clock.pause(true);
    await vi.advanceTimersByTimeAsync(5_000);
    clock.pause(false);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(clock.expired).toBe(false);
    clock.pause(false);
    await vi.advanceTimersByTimeAsync(399);
    expect(clock.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(clock.expired).toBe(true);
  });

  it("stops for good", async () => {
    vi.useFakeTimers();
    const clock = new CallClock(100);
    clock.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(clock.expired).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
