/**
 * Brook's one definition of a percentile, for `/stats` and `/metrics` alike: the nearest rank.
 * The p-th percentile of n values is the value at rank ⌈p·n⌉ (at least 1) in ascending order,
 * so it is always one of the values (two runs of 5,540 and 6,877 ms: p50 5,540, p90 6,877).
 * Up to `exactValuesMax` values it is that value exactly; beyond, the rank is found among counts
 * in logarithmic buckets and the bucket's middle is given, within 1% of the exact value.
 * Sketches add up by adding their counts (and their values while few), so the percentiles of
 * several instances are merged, never averaged.
 */
export class PercentileSketch {
  /** Count per bucket index; index 0 holds values below 1 (sub-millisecond). */
  readonly counts = new Map<number, number>();
  count = 0;
  /** Every value while there are at most `exactValuesMax`; dropped beyond. */
  #values: number[] | null = [];

  add(value: number): void {
    const index = bucketOf(value);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.count += 1;
    this.#keep([value]);
  }

  /**
   * Adds another sketch's counts (bucket index → count) and, when it kept them (it had at most
   * `exactValuesMax`), its values; without them the percentiles come from the buckets.
   */
  merge(counts: Iterable<readonly [number, number]>, values?: readonly number[]): void {
    let added = 0;
    for (const [index, count] of counts) {
      this.counts.set(index, (this.counts.get(index) ?? 0) + count);
      added += count;
    }
    if (added === 0) return;
    this.count += added;
    if (values?.length === added) this.#keep(values);
    else this.#values = null;
  }

  /** The value at `quantile` (0–1) by nearest rank, or null when empty. */
  quantile(quantile: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.min(this.count, Math.max(1, Math.ceil(quantile * this.count)));
    if (this.#values !== null) {
      // Sorted on demand (a scrape, a /stats read), never per added value.
      this.#values.sort((a, b) => a - b);
      return this.#values[rank - 1] as number;
    }
    let seen = 0;
    const indexes = [...this.counts.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      seen += this.counts.get(index) ?? 0;
      if (seen >= rank) return bucketValue(index);
    }
    return bucketValue(indexes.at(-1) as number);
  }

  #keep(values: readonly number[]): void {
    if (this.#values === null) return;
    if (this.count > exactValuesMax) this.#values = null;
    else this.#values.push(...values);
  }
}

/** Up to this many values, percentiles are exact; beyond, within 1%. */
export const exactValuesMax = 1_000;

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
