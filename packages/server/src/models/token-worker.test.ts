import { describe, expect, it } from "vitest";
import { countInWorker, holdTokenWorker } from "./token-worker.js";

/** Worker threads of this process, as its diagnostic report lists them (an unref'd thread included). */
const threads = () => (process.report.getReport() as { workers: unknown[] }).workers.length;

describe("holdTokenWorker", () => {
  it("ends the thread when the last holder lets go, not before, and a later count starts it again", async () => {
    const before = threads();
    const [first, second] = [holdTokenWorker(), holdTokenWorker()];
    expect((await countInWorker(["hello world"], 1_000)).tokens).toBe(2);
    expect(threads()).toBe(before + 1);

    await first();
    await first(); // letting go twice counts once
    expect(threads()).toBe(before + 1);
    await second();
    expect(threads()).toBe(before);

    const third = holdTokenWorker();
    expect((await countInWorker(["hello world"], 1_000)).tokens).toBe(2);
    expect(threads()).toBe(before + 1);
    await third();
    expect(threads()).toBe(before);
  });
});
