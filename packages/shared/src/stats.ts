import { z } from "zod";

export const Percentiles = z.object({
  count: z.number().int().nonnegative(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
});
export type Percentiles = z.infer<typeof Percentiles>;

export const ModelStats = z.object({
  requests: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  /** Parts of `input_tokens` and `output_tokens`. */
  cached_input_tokens: z.number().int().nonnegative(),
  reasoning_tokens: z.number().int().nonnegative(),
  total_cost: z.number().nonnegative(),
});
export type ModelStats = z.infer<typeof ModelStats>;

export const Stats = z.object({
  requests: z.object({
    total: z.number().int().nonnegative(),
    streaming: z.number().int().nonnegative(),
    non_streaming: z.number().int().nonnegative(),
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    cancelled: z.number().int().nonnegative(),
  }),
  active_runs: z.number().int().nonnegative(),
  /** Tool calls that waited for a person (TOOL_APPROVAL), and how each was decided. */
  approvals: z
    .object({
      requested: z.number().int().nonnegative(),
      approved: z.number().int().nonnegative(),
      denied: z.number().int().nonnegative(),
      timed_out: z.number().int().nonnegative(),
    })
    .optional(),
  tokens: z.object({
    input: z.number().int().nonnegative(),
    output: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    /** The part of `input` read from the model server's prompt cache. */
    cached_input: z.number().int().nonnegative(),
    /** The part of `output` spent thinking. */
    reasoning: z.number().int().nonnegative(),
  }),
  /** US dollars since the last reset. */
  total_cost: z.number().nonnegative(),
  models: z.record(z.string(), ModelStats),
  ttft_ms: Percentiles,
  duration_ms: Percentiles,
  uptime_s: z.number().nonnegative(),
  /** ISO time of the last reset (or of start-up). */
  since: z.string(),
});
export type Stats = z.infer<typeof Stats>;
