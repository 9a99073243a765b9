import { describe, expect, it } from "vitest";
import { PercentileSketch } from "./percentile-sketch.js";

/** A seeded generator (mulberry32): the same values on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function exact(values: number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)] as number;
}

describe("PercentileSketch", () => {
  it("is empty until a value arrives", () => {
    expect(new PercentileSketch().quantile(0.5)).toBeNull();
  });

  it("finds percentiles within 1% of the exact ones", () => {
    const random = seeded(7);
    const values = Array.from({ length: 5_000 }, () => 5 + random() ** 3 * 20_000);
    const sketch = new PercentileSketch();
    for (const value of values) sketch.add(value);
    for (const quantile of [0.5, 0.9, 0.99]) {
      const expected = exact(values, quantile);
      expect(Math.abs((sketch.quantile(quantile) as number) - expected) / expected).toBeLessThan(0.011);
    }
  });

  it("merges sketches into the percentiles of all their values, not an average of theirs", () => {
    const fast = new PercentileSketch();
    const slow = new PercentileSketch();
    for (let index = 0; index < 90; index++) fast.add(100);
    for (let index = 0; index < 10; index++) slow.add(5_000);
    const merged = new PercentileSketch();
    merged.merge(fast.counts);
    merged.merge(slow.counts);
    expect(merged.count).toBe(100);
    expect(merged.quantile(0.5)).toBeCloseTo(100, -1);
    expect(merged.quantile(0.95)).toBeCloseTo(5_000, -2);
  });

  it("counts values below a millisecond as 0", () => {
    const sketch = new PercentileSketch();
    sketch.add(0.4);
    expect(sketch.quantile(0.5)).toBe(0);
  });
});
