import type { ChatEvent } from "@brook/shared";

/**
 * Turns one run's events into one wire format, for one response. An encoder may keep state
 * across events (open parts, steps, a chunk id): a new one is made for every response.
 */
export interface StreamEncoder {
  /** The response's content type and the format's own headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** What goes out first, with the headers ("" for nothing). */
  start(): string;
  /** One event of the run at `seq`, as text ("" when the format shows nothing of it). */
  event(event: ChatEvent, seq: number): string;
  /** What follows the terminal event (or the pause), before the response ends. */
  end(): string;
  /**
   * True when the response should end before the run does (read once per batch): the AI SDK's
   * stream ends while the run waits for a person's approval. Absent: never.
   */
  readonly paused?: boolean;
  /** What keeps a silent stream open through proxies. */
  readonly ping: string;
  /** Reading the run failed (not because the client left); without it the error is thrown. */
  failure?(error: unknown): string;
}

/** Headers every event stream sends: no caching, no compression or buffering by proxies (nginx). */
export const eventStreamHeaders = {
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;
