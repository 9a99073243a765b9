/**
 * Fields a chunk may carry around its choice that change nothing Brook reads from a text delta.
 * A string value without escapes, a number, or null.
 */
const aside = `"(?:id|object|model|system_fingerprint|service_tier|obfuscation)":(?:"[^"\\\\]*"|null)|"created":\\d+|"usage":null`;

/**
 * A chunk whose only news is a piece of answer text, key for key as OpenAI, vLLM, llama.cpp,
 * Ollama, SGLang, DeepSeek and the bench's model server send it: one choice, a delta with `content` (and
 * perhaps the role, or other fields set to null), no finish reason, no usage, no error. The text
 * is captured as written: JSON string characters (no control character) and escapes.
 */
const textChunk = new RegExp(
  `^\\{(?:(?:${aside}),)*"choices":\\[\\{(?:"(?:finish_reason|logprobs)":null,)*"index":0,"delta":\\{(?:"role":"assistant",)?"content":"((?:[^"\\\\\\u0000-\\u001f]|\\\\.)*)"(?:,"(?:role":"assistant"|(?:reasoning_content|reasoning|refusal|tool_calls|function_call)":null))*\\}(?:,"(?:logprobs|finish_reason|stop_reason|matched_stop)":null)*\\}\\](?:,(?:${aside}))*\\}$`,
);

/** Longer chunks (a whole answer in one chunk, a big tool call) are parsed in full. */
const maxLength = 4096;

/**
 * The answer text of a stream chunk that carries nothing else, read without parsing the chunk
 * (`JSON.parse` builds four objects per token, and this is the most common chunk by far);
 * undefined for every other chunk, which is then parsed in full. An empty string is a chunk with
 * no text (the role's first chunk).
 */
export function textDelta(data: string): string | undefined {
  // A pattern's backtracking grows with the text; a long chunk is rare and parsed in full.
  if (data.length > maxLength) return undefined;
  const text = textChunk.exec(data)?.[1];
  if (text === undefined || !text.includes("\\")) return text;
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    // A bad escape: the full parse says what is wrong with the chunk.
    return undefined;
  }
}
