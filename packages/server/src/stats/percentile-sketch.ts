/**
 * Percentiles of a stream of non-negative values, within 1% of the true value, from counts in
 * logarithmic buckets. Sketches add up by adding their counts, so the percentiles of several
 * instances are merged, never averaged.
 */
export class PercentileSketch {
  /** Count per bucket index; index 0 holds values below 1 (sub-millisecond). */
  readonly counts = new Map<number, number>();
  count = 0;

  add(value: number): void {
    const index = bucketOf(value);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.count += 1;
  }

  /** Adds another sketch's counts (bucket index → count). */
  merge(counts: Iterable<readonly [number, number]>): void {
    for (const [index, count] of counts) {
      this.counts.set(index, (this.counts.get(index) ?? 0) + count);
      this.count += count;
    }
  }

  /** The value at `quantile` (0–1), or null when empty. */
  quantile(quantile: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(quantile * this.count));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index) ?? 0;
      if (seen >= rank) return bucketValue(index);
    }
    return bucketValue(Math.max(...this.counts.keys()));
  }
}

/** Buckets grow by `gamma`: a bucket's middle is within 1% of every value in it. */
const accuracy = 0.01;
const gamma = (1 + accuracy) / (1 - accuracy);
const logGamma = Math.log(gamma);

export function bucketOf(value: number): number {
  if (!(value >= 1)) return 0;
  return Math.ceil(Math.log(value) / logGamma);
}

function bucketValue(index: number): number {
  if (index === 0) return 0;
  return Math.round(((2 * gamma ** index) / (gamma + 1)) * 100) / 100;
}
