/**
 * Randomness that a failing test can replay: every random choice of a test comes from one seed,
 * `BROOK_TEST_SEED` when set, else a fixed one. A failure message names it.
 */
export const testSeed = Number(process.env.BROOK_TEST_SEED ?? 20_261_201);

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed = testSeed): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
