import { describe, expect, it } from "vitest";
import { exactValuesMax, PercentileSketch } from "./percentile-sketch.js";

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

  it("gives a run's own value by nearest rank: two runs of 6,877 and 5,540 ms", () => {
    const sketch = new PercentileSketch();
    sketch.add(6_877);
    sketch.add(5_540);
    expect([sketch.quantile(0.5), sketch.quantile(0.9), sketch.quantile(0.99)]).toEqual([5_540, 6_877, 6_877]);
  });

  it("is exact up to the bound: the value at rank ⌈p·n⌉", () => {
    const sketch = new PercentileSketch();
    // Added out of order, with values one bucket cannot tell apart (1.5, 1.51).
    for (const value of [7, 3, 10, 1.51, 5, 1.5, 9, 2, 8, 4]) sketch.add(value);
    expect(sketch.quantile(0)).toBe(1.5);
    expect(sketch.quantile(0.1)).toBe(1.5);
    expect(sketch.quantile(0.2)).toBe(1.51);
    expect(sketch.quantile(0.5)).toBe(4);
    expect(sketch.quantile(0.51)).toBe(5);
    expect(sketch.quantile(0.9)).toBe(9);
    expect(sketch.quantile(0.99)).toBe(10);
    expect(sketch.quantile(1)).toBe(10);
  });

  it("stays exact at the bound and within 1% of the exact percentile beyond it", () => {
    const random = seeded(11);
    const values = Array.from({ length: exactValuesMax + 1 }, () => 5 + random() * 20_000);
    const sketch = new PercentileSketch();
    for (const value of values.slice(0, exactValuesMax)) sketch.add(value);
    expect(sketch.quantile(0.5)).toBe(exact(values.slice(0, exactValuesMax), 0.5));
    sketch.add(values[exactValuesMax] as number);
    const expected = exact(values, 0.5);
    const estimated = sketch.quantile(0.5) as number;
    expect(estimated).not.toBe(expected);
    expect(Math.abs(estimated - expected) / expected).toBeLessThan(0.01);
  });

  it("finds percentiles within 1% of the exact ones among many values", () => {
    const random = seeded(7);
    const values = Array.from({ length: 5_000 }, () => 5 + random() ** 3 * 20_000);
    const sketch = new PercentileSketch();
    for (const value of values) sketch.add(value);
    for (const quantile of [0.5, 0.9, 0.99]) {
      const expected = exact(values, quantile);
      expect(Math.abs((sketch.quantile(quantile) as number) - expected) / expected).toBeLessThan(0.01);
    }
  });

  it("merges sketches into the percentiles of all their values, exactly while few", () => {
    const merged = new PercentileSketch();
    merged.merge([]);
    merged.merge(
      [
        [bucket(6_877), 1],
        [bucket(5_540), 1],
      ],
      [6_877, 5_540],
    );
    merged.merge([[bucket(120), 1]], [120]);
    expect(merged.count).toBe(3);
    expect([merged.quantile(0.5), merged.quantile(0.99)]).toEqual([5_540, 6_877]);
  });

  it("merges counts without values into percentiles of all values, not an average", () => {
    const fast = new PercentileSketch();
    const slow = new PercentileSketch();
    for (let index = 0; index < 90; index++) fast.add(100);
    for (let index = 0; index < 10; index++) slow.add(5_000);
    const merged = new PercentileSketch();
    merged.merge(fast.counts);
    merged.merge(slow.counts);
    expect(merged.count).toBe(100);
    expect(Math.abs((merged.quantile(0.5) as number) - 100)).toBeLessThan(1);
    expect(Math.abs((merged.quantile(0.95) as number) - 5_000)).toBeLessThan(50);
  });

  it("keeps sub-millisecond values while few, and counts them as 0 among many", () => {
    const sketch = new PercentileSketch();
    sketch.add(0.4);
    expect(sketch.quantile(0.5)).toBe(0.4);
    for (let index = 0; index < exactValuesMax; index++) sketch.add(0.4);
    expect(sketch.quantile(0.5)).toBe(0);
  });
});

function bucket(value: number): number {
  const sketch = new PercentileSketch();
  sketch.add(value);
  return [...sketch.counts.keys()][0] as number;
}
