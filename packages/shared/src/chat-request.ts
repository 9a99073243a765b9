import { z } from "zod";
import { Attachment, ContentPart } from "./attachments.js";

/** A past turn: its text, or (a user's) OpenAI-style parts with images and text files. */
export const HistoryMessage = z.object({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(ContentPart).max(1_000)]),
});
export type HistoryMessage = z.infer<typeof HistoryMessage>;

/** How hard a reasoning model should think (`reasoning_effort` of chat completions). */
export const ReasoningEffort = z.enum(["low", "medium", "high"]);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

/** Sampling options passed on to the model as they are, with OpenAI's names and ranges. */
export const TopP = z.number().min(0).max(1);
export const Penalty = z.number().min(-2).max(2);
export const Seed = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
/** Where the model stops writing: one sequence or up to 4 (not included in the answer). */
export const StopSequences = z.union([z.string().min(1).max(1_000), z.array(z.string().min(1).max(1_000)).max(4)]);

/**
 * A typed answer: the model answers with JSON matching `schema` (a JSON Schema of an object),
 * sent to the model server as `response_format: {type: "json_schema"}`. `name` labels it for the
 * model (letters, digits, `_` and `-`; default `answer`); `strict` asks for OpenAI's strict mode.
 */
export const OutputSpec = z.object({
  schema: z.record(z.string(), z.unknown()),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, _ or -")
    .nullish(),
  description: z.string().max(10_000).nullish(),
  strict: z.boolean().nullish(),
});
export type OutputSpec = z.input<typeof OutputSpec>;

/**
 * A chat request. `message` and `system_prompt` are the seed's; the server is stateless,
 * so multi-turn context travels in `history`. Optional fields accept null (Python clients send it).
 */
export const ChatRequest = z.object({
  // Checked, not trimmed: leading whitespace can matter (indented code).
  message: z.string().refine((text) => text.trim() !== "", "message must be a non-empty string"),
  system_prompt: z.string().nullish(),
  history: z.array(HistoryMessage).nullish(),
  /** Images and text files given to the model with `message` (MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES each). */
  attachments: z.array(Attachment).max(1_000).nullish(),
  model: z.string().trim().min(1).max(200).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  /** Nucleus sampling: only the most likely tokens whose probabilities add up to `top_p`. */
  top_p: TopP.nullish(),
  /** Penalties for tokens already present (once, or by how often): -2 to 2. */
  presence_penalty: Penalty.nullish(),
  frequency_penalty: Penalty.nullish(),
  /** Asks the model server for repeatable sampling (servers that support it). */
  seed: Seed.nullish(),
  stop: StopSequences.nullish(),
  /** Tools the model may use: absent or null for all, `false` for none, or a list of tool names. */
  tools: z.union([z.literal(false), z.array(z.string().trim().min(1).max(128)).max(256)]).nullish(),
  /** Passed to the model as `reasoning_effort`; absent: the model's default. */
  reasoning_effort: ReasoningEffort.nullish(),
  /** Asks for a typed answer: `object` events while it streams, `object` on `complete`. */
  output: OutputSpec.nullish(),
});
export type ChatRequest = z.input<typeof ChatRequest>;
export type ParsedChatRequest = z.output<typeof ChatRequest>;
