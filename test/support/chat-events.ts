import type { ChatEvent, Usage } from "@brook/shared";

/** Events for tests of the run log and the stores: what an agent loop would append. */
export const usage: Usage = {
  input_tokens: 1,
  output_tokens: 2,
  total_tokens: 3,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

export const content = (chunk: string): ChatEvent => ({ type: "content", chunk });

/** A run's successful end, with `fullContent` as its answer. */
export const completeEvent = (fullContent: string): ChatEvent => ({
  type: "complete",
  full_content: fullContent,
  usage,
  finish_reason: "stop",
  timing: { ttft_ms: 1, duration_ms: 2, tokens_per_s: 1 },
});
