import { describe, expect, it } from "vitest";
import { textDelta } from "./text-delta.js";

/**
 * What a full parse reads from the chunk when it carries answer text and nothing else (as
 * `partsOf` reads it); undefined for anything else: a bad chunk, an error, reasoning, a tool
 * call, a finish, usage.
 */
function parsedText(data: string): string | undefined {
  let chunk: Record<string, unknown>;
  try {
    chunk = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (chunk === null || typeof chunk !== "object" || chunk.error || chunk.usage != null) return undefined;
  const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Record<string, unknown> | undefined) : undefined;
  if (typeof choice?.finish_reason === "string") return undefined;
  const delta = choice?.delta as Record<string, unknown> | undefined;
  if (delta == null || delta.tool_calls != null) return undefined;
  if (delta.reasoning_content != null || delta.reasoning != null || delta.reasoning_details != null) return undefined;
  return typeof delta.content === "string" ? delta.content : undefined;
}

const contents = [
  "",
  "a",
  " world",
  'say "hi"',
  "back\\slash",
  "line\nbreak\ttab\r",
  "emoji 😀 你好",
  "\u2028\u2029",
  "\u0000\u001f",
  "\ud800 lone",
  '"tool_calls":[{"index":0}]',
  '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}',
  "\\u0041 written out",
  "}]}",
];

/** What servers send, key for key: the ones a text delta should be read from without a parse. */
const textShapes: Record<string, (content: string) => unknown> = {
  openai: (content) => ({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1_764_000_000,
    model: "gpt-4o-mini",
    service_tier: "default",
    system_fingerprint: "fp_1",
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    obfuscation: "x1y2",
  }),
  "openai with usage requested": (content) => ({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o",
    system_fingerprint: null,
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    usage: null,
  }),
  "openai first chunk": (content) => ({
    id: "c",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: null }],
  }),
  vllm: (content) => ({
    id: "chatcmpl-2",
    object: "chat.completion.chunk",
    created: 2,
    model: "Qwen/Qwen3-8B",
    choices: [
      { index: 0, delta: { content, reasoning_content: null }, logprobs: null, finish_reason: null, stop_reason: null },
    ],
  }),
  "llama.cpp": (content) => ({
    choices: [{ finish_reason: null, index: 0, delta: { content } }],
    created: 3,
    id: "chatcmpl-3",
    model: "llama",
    system_fingerprint: "b1",
    object: "chat.completion.chunk",
  }),
  ollama: (content) => ({
    id: "chatcmpl-4",
    object: "chat.completion.chunk",
    created: 4,
    model: "llama3.2",
    system_fingerprint: "fp_ollama",
    choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }],
  }),
  deepseek: (content) => ({
    id: "5",
    object: "chat.completion.chunk",
    created: 5,
    model: "deepseek-chat",
    system_fingerprint: "fp_5",
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    usage: null,
  }),
  bench: (content) => ({
    id: "chatcmpl-bench-0",
    object: "chat.completion.chunk",
    created: 6,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  }),
};

/** Chunks that carry more than text (or something else): read only by the full parse. */
const otherShapes: Record<string, (content: string) => unknown> = {
  "reasoning beside the text": (content) => ({
    choices: [{ index: 0, delta: { content, reasoning_content: "thinking" }, finish_reason: null }],
  }),
  "reasoning under another name": (content) => ({
    choices: [{ index: 0, delta: { content, reasoning: "thinking" }, finish_reason: null }],
  }),
  "reasoning details": (content) => ({
    choices: [{ index: 0, delta: { content, reasoning_details: [{ type: "reasoning.text", text: "t" }] } }],
  }),
  "a tool call": (content) => ({
    choices: [{ index: 0, delta: { content, tool_calls: [{ index: 0, id: "call_1", function: { name: "echo" } }] } }],
  }),
  "the finish": (content) => ({ choices: [{ index: 0, delta: { content }, finish_reason: "stop" }] }),
  usage: (content) => ({
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  }),
  "an error": (content) => ({ error: { message: content } }),
  "an error beside a choice": (content) => ({
    id: "x",
    error: { message: "overloaded" },
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  }),
  "two choices": (content) => ({
    choices: [
      { index: 0, delta: { content }, finish_reason: null },
      { index: 1, delta: { content }, finish_reason: null },
    ],
  }),
  "no choices": () => ({ id: "x", choices: [] }),
  "an unknown field": (content) => ({
    id: "x",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    extra: { content },
  }),
};

/** Written by hand: what JSON.stringify would never write. */
const rawChunks = [
  '{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"a"}}],"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}',
  '{"usage":{"prompt_tokens":1,"completion_tokens":1},"choices":[{"index":0,"delta":{"content":"a"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"raw\nnewline"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"bad \\x escape"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"cut \\u12"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"a"}}]} trailing',
  '{ "choices": [{ "index": 0, "delta": { "content": "spaced" } }] }',
  '{"created":1.5,"choices":[{"index":0,"delta":{"content":"a"}}]}',
  '{"id":"a\\"b","choices":[{"index":0,"delta":{"content":"a"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"a"}',
  '{"choices":[{"index":0,"delta":{"content":"a\\\\"}}]}',
  '{"choices":[{"index":0,"delta":{"content":"a\\\\\\"}}]}',
];

describe("textDelta", () => {
  it("reads the text of every common text chunk, exactly as the full parse does", () => {
    for (const [name, shape] of Object.entries(textShapes)) {
      for (const content of contents) {
        const data = JSON.stringify(shape(content));
        expect(textDelta(data), `${name}: ${data}`).toBe(content);
        expect(parsedText(data)).toBe(content);
      }
    }
  });

  it("leaves every other chunk to the full parse", () => {
    for (const [name, shape] of Object.entries(otherShapes)) {
      for (const content of contents) {
        const data = JSON.stringify(shape(content));
        expect(textDelta(data), `${name}: ${data}`).toBeUndefined();
      }
    }
  });

  it("parses a long chunk in full, however large (a 10 MB one included)", () => {
    const chunk = (content: string) => JSON.stringify(textShapes.openai?.(content));
    expect(textDelta(chunk("a".repeat(1000)))).toBe("a".repeat(1000));
    expect(textDelta(chunk("a".repeat(10 * 1024 * 1024)))).toBeUndefined();
  });

  it("never reads a chunk differently from the full parse, whatever its bytes", () => {
    const shapes = [...Object.values(textShapes), ...Object.values(otherShapes)];
    const chunks = [...rawChunks];
    for (const shape of shapes) {
      for (const content of contents) {
        const data = JSON.stringify(shape(content));
        chunks.push(data);
        // Every cut and every one-character change of a real chunk, as a broken server might send.
        for (let at = 1; at < data.length; at += 3) {
          chunks.push(
            data.slice(0, at),
            data.slice(0, at) + data.slice(at + 1),
            `${data.slice(0, at)}"${data.slice(at)}`,
          );
        }
      }
    }
    let read = 0;
    for (const data of chunks) {
      const text = textDelta(data);
      if (text === undefined) continue;
      read += 1;
      expect(text, data).toBe(parsedText(data));
    }
    expect(read).toBeGreaterThan(100);
  });
});
