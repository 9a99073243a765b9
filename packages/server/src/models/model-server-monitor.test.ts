import type { ModelServerStatus } from "@brook/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ModelServerCheck } from "./model-server-check.js";
import { ModelServerMonitor } from "./model-server-monitor.js";

const ok: ModelServerCheck = { status: { status: "ok", detail: "GET /models answered 200." } };
const down: ModelServerCheck = {
  status: { status: "unreachable", detail: "GET /models failed: ECONNREFUSED." },
  warning: "The model server cannot be reached.",
};

/** A monitor whose checks answer, in turn, what `answers` holds (the last one from then on). */
function monitorOf(answers: ModelServerCheck[], intervalMs: number) {
  const log = { info: vi.fn<(message: string) => void>(), warn: vi.fn<(message: string) => void>() };
  let checks = 0;
  const monitor = new ModelServerMonitor({
    check: async () => answers[Math.min(checks++, answers.length - 1)] as ModelServerCheck,
    intervalMs,
    log,
  });
  return { monitor, log, checks: () => checks };
}

const stateOf = (status: ModelServerStatus) => status.status;

describe("ModelServerMonitor", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("checks at start and every interval, saying when, and warns once per failure", async () => {
    const { monitor, log, checks } = monitorOf([ok, down, down, down, ok], 1_000);
    expect(monitor.status()).toMatchObject({ status: "checking", checked_at: null });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.status()).toEqual({ ...ok.status, checked_at: "2026-01-01T00:00:00.000Z" });

    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.status()).toEqual({ ...down.status, checked_at: "2026-01-01T00:00:01.000Z" });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(checks()).toBe(4);
    expect(log.warn.mock.calls).toEqual([["The model server cannot be reached."]]);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(stateOf(monitor.status())).toBe("ok");
    expect(log.info.mock.calls).toEqual([["The model server answers again."]]);
    await monitor.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(checks()).toBe(5);
  });

  it("checks only at start with an interval of 0, and follows what model calls meet", async () => {
    const { monitor, log, checks } = monitorOf([ok], 0);
    monitor.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(checks()).toBe(1);

    monitor.unreachable();
    expect(monitor.status()).toMatchObject({ status: "unreachable", checked_at: "2026-01-01T00:01:00.000Z" });
    expect(log.warn).toHaveBeenCalledTimes(1);
    monitor.unreachable();
    expect(log.warn).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(5_000);
    monitor.answered();
    expect(monitor.status()).toEqual({
      status: "ok",
      detail: "A model call was answered.",
      checked_at: "2026-01-01T00:01:05.000Z",
    });
    await monitor.stop();
  });
});
