import { setTimeout as sleep } from "node:timers/promises";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";
import { tokenCounter } from "./token-counter.js";

/**
 * The offline model of demo mode (no OPENAI_API_KEY and no OPENAI_BASE_URL): it streams a
 * reply that says what Brook is and how to connect a real model, at a human reading pace.
 */
export class DemoChatModel implements ChatModel {
  readonly mode = "demo" as const;

  constructor(private readonly tokenDelayMs: number) {}

  async *stream(call: ModelCall): AsyncGenerator<ModelPart> {
    const question = [...call.messages].reverse().find((message) => message.role === "user")?.content ?? "";
    const reply = demoReply(question);
    yield { type: "accepted" };
    for (const piece of reply.match(pieces) ?? []) {
      if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs, undefined, { signal: call.signal });
      else call.signal.throwIfAborted();
      yield { type: "text", text: piece };
    }
    yield { type: "finish", reason: "stop" };
    const [inputTokens, outputTokens] = await Promise.all([
      tokenCounter.messages(call.messages),
      tokenCounter.text(reply),
    ]);
    yield { type: "usage", inputTokens, outputTokens };
  }
}

/** Word-sized pieces, and single characters of CJK text, like a tokenizer's stream. */
const pieces = /[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]|\s*[^\s\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]+|\s+/gu;
const cjk = /[\u3400-\u9fff]/u;

function demoReply(question: string): string {
  const quoted = question.length > 200 ? `${question.slice(0, 200)}…` : question;
  if (cjk.test(question)) {
    return [
      `你好！这里是 Brook 的**演示模式**：没有连接真实的模型，所以我无法真正回答「${quoted}」。`,
      "",
      "你看到的是一次完整的流式运行：开始事件、逐字的内容块，以及带用量和耗时的完成事件。",
      "",
      "要连接真实模型，请在启动前设置：",
      "",
      "```bash",
      'export OPENAI_API_KEY="sk-..."            # OpenAI',
      'export OPENAI_BASE_URL="http://127.0.0.1:11434/v1"  # 或 vLLM、Ollama、llama.cpp',
      "pnpm start",
      "```",
    ].join("\n");
  }
  return [
    `Hello! Brook is running in **demo mode**: no model is connected, so I can't really answer "${quoted}".`,
    "",
    "What you see is a complete streaming run: a start event, content chunks token by token, and a final event with usage and timing.",
    "",
    "To connect a real model, set one of these before starting Brook:",
    "",
    "```bash",
    'export OPENAI_API_KEY="sk-..."                    # OpenAI',
    'export OPENAI_BASE_URL="http://127.0.0.1:11434/v1" # or vLLM, Ollama, llama.cpp',
    "pnpm start",
    "```",
  ].join("\n");
}
