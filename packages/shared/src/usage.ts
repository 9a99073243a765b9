import { z } from "zod";

/** Token usage and cost of a run. The first four fields are the seed's; the rest are Brook's. */
export const Usage = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  /** US dollars. */
  total_cost: z.number().nonnegative(),
  /** The part of `input_tokens` the model server read from its prompt cache (billed at the cache-read rate). */
  cached_input_tokens: z.number().int().nonnegative().default(0),
  /** The part of `output_tokens` the model spent thinking (reasoning models). */
  reasoning_tokens: z.number().int().nonnegative().default(0),
  /** True when tokens were counted locally because the upstream reported none. */
  estimated: z.boolean(),
  /** False when the model has no known price (then `total_cost` is 0). */
  priced: z.boolean(),
});
export type Usage = z.infer<typeof Usage>;

export const Timing = z.object({
  /** Milliseconds from the request to the first answer (content) token; null when none arrived. */
  ttft_ms: z.number().nonnegative().nullable(),
  duration_ms: z.number().nonnegative(),
  /** Output tokens (reasoning included) per second after the model's first output. */
  tokens_per_s: z.number().nonnegative(),
  /**
   * How long the model thought: milliseconds from each first reasoning token to the answer (or
   * tool call) that followed, summed over the run's model calls. Present only when it reasoned.
   */
  reasoning_ms: z.number().nonnegative().optional(),
});
export type Timing = z.infer<typeof Timing>;

export const emptyUsage: Usage = {
  input_tokens: 0,
  output_tokens: 0,
  total_tokens: 0,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};
