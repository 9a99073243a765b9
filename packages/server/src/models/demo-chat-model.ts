import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ChatModel,
  type ModelCall,
  type ModelContentPart,
  type ModelMessage,
  type ModelPart,
  type ModelTool,
  type ModelToolCall,
  messageText,
} from "./chat-model.js";
import { demoToolArguments } from "./demo-tool-arguments.js";
import { dataUrlImageSize } from "./message-parts.js";
import { tokenCounter } from "./token-counter.js";

/**
 * The demo tool's name (the tool itself is `tools/demo-tools.ts`): a message that names it (e.g.
 * "Use demo_delete_file on notes.txt") makes the demo model call it.
 */
export const demoToolName = "demo_delete_file";

/**
 * The offline model of demo mode (no OPENAI_API_KEY and no OPENAI_BASE_URL): it streams a
 * reply that says what Brook is and how to connect a real model, at a human reading pace.
 * When MCP tools are offered and the message names one, it calls that tool first, then
 * answers with what the tool returned: the whole agent loop, offline (with no MCP server, demo
 * mode's pretend `demo_delete_file`, which needs approval, is the tool to name). A message that asks it to
 * think (or reason, 思考) gets its thinking streamed first, as a reasoning model's. It honours
 * `max_tokens` (the answer ends there, finish reason `length`) and `stop`, so that limits can be
 * tried offline too. Asked for a typed answer (`response_format`), it writes an instance of the schema.
 */
export class DemoChatModel implements ChatModel {
  readonly mode = "demo" as const;

  constructor(private readonly tokenDelayMs: number) {}

  async *stream(call: ModelCall): AsyncGenerator<ModelPart[]> {
    const asked = call.messages.findLast((message) => message.role === "user" && !message.toolImages)?.content ?? "";
    const question = messageText(asked);
    const results = toolResultsOfThisTurn(call.messages);
    const tool = results.length === 0 ? namedTool(question, call.tools ?? []) : undefined;
    if (tool !== undefined) {
      const toolCall: ModelToolCall = {
        id: `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
        name: tool.name,
        arguments: JSON.stringify(demoToolArguments(tool.parameters, question)),
      };
      const [inputTokens, outputTokens] = await Promise.all([
        tokenCounter.messages(call.messages, call.tools),
        tokenCounter.text(toolCall.arguments),
      ]);
      yield [
        { type: "accepted" },
        { type: "tool_call", call: toolCall },
        { type: "finish", reason: "tool_calls" },
        { type: "usage", inputTokens, outputTokens, cachedInputTokens: 0, reasoningTokens: 0 },
      ];
      return;
    }
    const written =
      givenNote(asked) +
      (results.length > 0 ? toolReply(question, results) : demoReply(question, offersDemoTool(call)));
    const reply = untilStop(typedReply(call, question) ?? written, call.stop);
    const thinking = asksToThink(question) ? demoThinking(question) : "";
    // Each piece counts its tokens, so that a `max_tokens` limit ends the answer where a model's would.
    const budget = { left: call.maxTokens ?? Number.POSITIVE_INFINITY, cut: false };
    let thought = "";
    let answered = "";
    yield [{ type: "accepted" }];
    for (const piece of thinking.match(pieces) ?? []) {
      if (!(await spend(piece, budget))) break;
      await this.#pace(call.signal);
      thought += piece;
      yield [{ type: "reasoning", text: piece }];
    }
    for (const piece of budget.cut ? [] : (reply.match(pieces) ?? [])) {
      if (!(await spend(piece, budget))) break;
      await this.#pace(call.signal);
      answered += piece;
      yield [{ type: "text", text: piece }];
    }
    const [answerTokens, reasoningTokens] = await Promise.all([
      tokenCounter.text(answered),
      tokenCounter.text(thought),
    ]);
    yield [
      { type: "finish", reason: budget.cut ? "length" : "stop" },
      {
        type: "usage",
        inputTokens: await tokenCounter.messages(call.messages, call.tools),
        outputTokens: answerTokens + reasoningTokens,
        cachedInputTokens: 0,
        reasoningTokens,
      },
    ];
  }

  /** One token's time at a reading pace. */
  async #pace(signal: AbortSignal): Promise<void> {
    if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs, undefined, { signal });
    else signal.throwIfAborted();
  }
}

/**
 * A typed answer (`response_format`): an instance of the schema, filled as the demo fills tool
 * arguments (the question's numbers and words), so that typed answers work offline too.
 */
function typedReply(call: ModelCall, question: string): string | undefined {
  const format = call.responseFormat;
  if (format === undefined) return undefined;
  if (format.type === "json_object") return JSON.stringify({ demo: true, question }, null, 2);
  return JSON.stringify(demoToolArguments(format.schema, question), null, 2);
}

/** Takes the tokens of `piece` from the budget; false (and `cut`) when they do not fit. */
async function spend(piece: string, budget: { left: number; cut: boolean }): Promise<boolean> {
  if (budget.left === Number.POSITIVE_INFINITY) return true;
  const tokens = await tokenCounter.text(piece);
  if (tokens > budget.left) budget.cut = true;
  else budget.left -= tokens;
  return !budget.cut;
}

/** The text up to the first of the stop sequences, which is left out, as a model server does. */
function untilStop(text: string, stop: readonly string[] | undefined): string {
  let end = text.length;
  for (const sequence of stop ?? []) {
    const at = text.indexOf(sequence);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** Word-sized pieces, and single characters of CJK text, like a tokenizer's stream. */
const pieces = /[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]|\s*[^\s\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]+|\s+/gu;
const cjk = /[\u3400-\u9fff]/u;

/** The tool calls and results since the user's message, paired. */
function toolResultsOfThisTurn(messages: readonly ModelMessage[]): { name: string; result: string }[] {
  const results: { name: string; result: string }[] = [];
  const names = new Map<string, string>();
  for (const message of messages) {
    // Tools' images belong to the turn of the tools that gave them.
    if (message.role === "user" && message.toolImages !== true) {
      results.length = 0;
      names.clear();
    } else if (message.role === "assistant") {
      for (const toolCall of message.toolCalls ?? []) names.set(toolCall.id, toolCall.name);
    } else if (message.role === "tool") {
      results.push({ name: names.get(message.toolCallId) ?? "tool", result: message.content });
    }
  }
  return results;
}

/** The offered tool the question names (the longest name wins; `echo` also finds `server__echo`). */
function namedTool(question: string, tools: readonly ModelTool[]): ModelTool | undefined {
  const text = question.toLowerCase();
  let best: { tool: ModelTool; length: number } | undefined;
  for (const tool of tools) {
    const short = tool.name.includes("__") ? tool.name.slice(tool.name.lastIndexOf("__") + 2) : tool.name;
    for (const name of new Set([tool.name, short])) {
      const pattern = new RegExp(`(^|[^a-z0-9_-])${escapeRegExp(name.toLowerCase())}($|[^a-z0-9_-])`, "u");
      if (pattern.test(text) && (best === undefined || name.length > best.length)) best = { tool, length: name.length };
    }
  }
  return best?.tool;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function toolReply(question: string, results: readonly { name: string; result: string }[]): string {
  const lines = results.map(
    ({ name, result }) => `- \`${name}\`: ${result.length > 500 ? `${result.slice(0, 500)}…` : result}`,
  );
  if (cjk.test(question)) return ["演示模式：我调用了工具，它返回了：", "", ...lines].join("\n");
  return ["Demo mode: I called the tool, and it answered:", "", ...lines].join("\n");
}

/**
 * What demo mode answers: what Brook is doing and how to connect a real model. Long enough (some
 * 180 pieces, about 5-6 s at the default DEMO_TOKEN_DELAY_MS) to try Stop, Ctrl-C or a reload midway.
 */
/** What came with the message (images with their sizes, files with theirs), said first: offline proof they arrived. */
function givenNote(content: string | readonly ModelContentPart[]): string {
  if (typeof content === "string") return "";
  const images: string[] = [];
  const files: string[] = [];
  for (const part of content) {
    if (part.type === "image_url") {
      const size = dataUrlImageSize(part.image_url.url);
      images.push(size === undefined ? "size unknown (a URL)" : `${size.width}×${size.height}`);
    } else if (part.type === "file") {
      files.push(`${part.name}, ${part.text.length} characters`);
    }
  }
  if (images.length === 0 && files.length === 0) return "";
  const said: string[] = [];
  if (images.length > 0) said.push(`${count(images.length, "image")} (${images.join("; ")})`);
  if (files.length > 0) said.push(`${count(files.length, "file")} (${files.join("; ")})`);
  return `You gave me ${said.join(" and ")}.\n\n`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Demo mode's pretend tool that needs approval is offered (no MCP server): the reply says how to try it. */
function offersDemoTool(call: ModelCall): boolean {
  return call.tools?.some((tool) => tool.name === demoToolName) === true;
}

function demoReply(question: string, approvalTip: boolean): string {
  const quoted = question.length > 200 ? `${question.slice(0, 200)}…` : question;
  if (cjk.test(question)) {
    return [
      `你好！这里是 Brook 的**演示模式**：没有连接真实的模型，所以我无法真正回答「${quoted}」。`,
      "",
      "不过这是一次真实的流式运行：开始事件、逐块到达的内容，以及带用量、费用和耗时的完成事件。回答故意放慢，方便你中途试试：",
      "",
      "- 网页里的**停止**（或 Esc）、`brook chat` 里的 **Ctrl-C**：取消运行，保留已生成的部分和用量。",
      "- 回答途中刷新页面：从断开处继续，不再调用模型。",
      "- 统计（图表图标）计入每一次运行。",
      ...(approvalTip ? [`- 试试工具审批：发送 \`Use ${demoToolName} on notes.txt\`。`] : []),
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
    `Hello! Brook is running in **demo mode**: no model is connected, so I can't really answer "${quoted}". What you are reading is a real streaming run all the same, and everything around it works as it will with a real model.`,
    "",
    "The answer arrives the way a model's would: a start event, then the text in small pieces, token by token, and a last event with the tokens used, the cost, the time to first token and the speed. It takes a few seconds on purpose, so that you can try what happens midway:",
    "",
    "- **Stop** (or Esc) in the web UI, or **Ctrl-C** in `brook chat`, cancels the run on the server; the partial answer stays, with the tokens it used.",
    "- Reload the page while an answer streams: it goes on where it was, without a second model call.",
    "- Statistics (the chart icon) counts every run, this one included.",
    ...(approvalTip
      ? [
          `- Send \`Use ${demoToolName} on notes.txt\` to see a tool call wait for your approval (a demo tool: it deletes nothing).`,
        ]
      : []),
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

/** The message asks the model to think it over. */
function asksToThink(question: string): boolean {
  return /\b(?:think|thought|reason)/iu.test(question) || /思考|推理|想一想/u.test(question);
}

/** What the demo model "thinks" before it answers: what a reasoning model would show, offline. */
function demoThinking(question: string): string {
  if (cjk.test(question)) {
    return [
      "用户希望我先思考再回答。",
      "不过这里是演示模式，没有连接真实的模型，所以我没有真正的推理可以展示。",
      "这段文字以 reasoning 事件流出，与答案分开：客户端可以把它显示为「思考」区块，而它不会作为答案的一部分，也不会在历史中发回给模型。",
      "好了，开始回答。",
    ].join("");
  }
  return [
    "The user wants me to think before answering. ",
    "This is demo mode, though: no model is connected, so there is no real reasoning to show. ",
    "This text streams as reasoning events, apart from the answer: a client can show it as a Thinking block, ",
    "and it is never part of the answer, nor sent back to the model in the history. ",
    "Now, the answer.",
  ].join("");
}
