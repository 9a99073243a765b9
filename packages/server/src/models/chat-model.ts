import type { Mode } from "@brook/shared";

export interface ModelMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ModelCall {
  model: string;
  messages: ModelMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** The run's signal: aborting it aborts the upstream request. */
  signal: AbortSignal;
}

/**
 * What a model stream yields, in order: `accepted` once the server took the request (from then
 * on the prompt is billed), text pieces, one finish, then usage if the server reports it.
 */
export type ModelPart =
  | { type: "accepted" }
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; inputTokens: number; outputTokens: number };

/** A model adapter. It throws `BrookError`s; a stream that ends without `finish` was cut. */
export interface ChatModel {
  readonly mode: Mode;
  stream(call: ModelCall): AsyncIterable<ModelPart>;
}
