import type { Stats } from "@brook/client";
import { useSyncExternalStore } from "react";

/** The service's totals at one moment, as `/stats` gave them. */
export interface StatsSample {
  at: number;
  requests: number;
  tokens: number;
}

/** About two hours at one sample every 30 s; older samples are dropped. */
const limit = 240;

let samples: readonly StatsSample[] = [];
let since: string | undefined;
const listeners = new Set<() => void>();

/**
 * Adds what `/stats` said now to the history this page keeps while it is open (Brook keeps
 * totals, not their history). A reset on the server starts the history over.
 */
export function recordStats(stats: Stats, at = Date.now()): void {
  const reset = since !== stats.since || stats.requests.total < (samples.at(-1)?.requests ?? 0);
  since = stats.since;
  const sample = { at, requests: stats.requests.total, tokens: stats.tokens.total };
  samples = reset ? [sample] : [...samples, sample].slice(-limit);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useStatsHistory(): readonly StatsSample[] {
  return useSyncExternalStore(subscribe, () => samples);
}
