import { afterEach, describe, expect, it, vi } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { RunInputs } from "./pending-inputs.js";

describe("RunInputs", () => {
  afterEach(() => vi.useRealTimers());

  it("takes the first answer, even one that comes before the run awaits it, and refuses the next", async () => {
    const waits: boolean[] = [];
    const inputs = new RunInputs((waiting) => waits.push(waiting));
    const answer = inputs.expect("a1", 60_000, new AbortController().signal);
    expect(inputs.answer("a1", { approved: true })).toBe("answered");
    expect(inputs.answer("a1", { approved: false })).toBe("already_answered");
    expect(inputs.answer("nope", { approved: true })).toBe("not_found");
    await expect(answer).resolves.toEqual({ answered: true, value: { approved: true } });
    expect(waits).toEqual([true, false]);
  });

  it("refuses an answer its check does not accept, naming the field, and keeps waiting for one that fits", async () => {
    const inputs = new RunInputs();
    const answer = inputs.expect("i1", 60_000, new AbortController().signal, (value) =>
      value === "fits" ? undefined : { field: "content.age", problem: "must be integer" },
    );
    expect(inputs.answer("i1", "nope")).toEqual({ field: "content.age", problem: "must be integer" });
    expect(inputs.waiting).toBe(true);
    expect(inputs.answer("i1", "fits")).toBe("answered");
    await expect(answer).resolves.toEqual({ answered: true, value: "fits" });
  });

  it("gives up after the timeout exactly once, and a late answer is refused", async () => {
    vi.useFakeTimers();
    const inputs = new RunInputs();
    const answer = inputs.expect("a1", 1_000, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(999);
    expect(inputs.waiting).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await expect(answer).resolves.toEqual({ answered: false });
    expect(inputs.answer("a1", { approved: true })).toBe("already_answered");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the run's abort reason and stops waiting", async () => {
    const abort = new AbortController();
    const inputs = new RunInputs();
    const answer = inputs.expect("a1", 60_000, abort.signal);
    abort.abort(new BrookError("shutdown"));
    await expect(answer).rejects.toMatchObject({ code: "shutdown" });
    expect(inputs.waiting).toBe(false);
    expect(inputs.answer("a1", { approved: true })).toBe("already_answered");
  });

  it("stays waiting while any input of the run is unanswered", async () => {
    const waits: boolean[] = [];
    const inputs = new RunInputs((waiting) => waits.push(waiting));
    const signal = new AbortController().signal;
    const first = inputs.expect("a1", 60_000, signal);
    const second = inputs.expect("a2", 60_000, signal);
    inputs.answer("a1", 1);
    await first;
    expect(inputs.waiting).toBe(true);
    inputs.answer("a2", 2);
    await second;
    expect(waits).toEqual([true, false]);
  });
});
