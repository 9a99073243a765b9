/** How long `health` and `stats` wait for an answer. */
export const queryTimeoutMs = 10_000;

/** Runs a query that gives up after `queryTimeoutMs`, saying so in words. */
export async function withTimeout<T>(url: string, query: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(queryTimeoutMs);
  try {
    return await query(signal);
  } catch (error) {
    if (signal.aborted) throw new Error(`no answer from Brook at ${url} within ${queryTimeoutMs / 1000} s`);
    throw error;
  }
}
