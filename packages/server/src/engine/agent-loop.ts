import {
  emptyUsage,
  type ParsedChatRequest,
  START_MESSAGE,
  type TerminalEvent,
  type Timing,
  type Usage,
} from "@brook/shared";
import { abortReason, BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelMessage } from "../models/chat-model.js";
import { tokenCounter } from "../models/token-counter.js";
import type { PriceTable } from "../pricing/price-table.js";
import type { StatsCollector } from "../stats/stats-collector.js";
import type { Run } from "./run.js";

export interface AgentDependencies {
  model: ChatModel;
  prices: PriceTable;
  stats: StatsCollector;
  defaultSystemPrompt: string;
  /** Told about failures that are Brook's own bugs (the caller sees code `internal`). */
  onInternalError: (error: unknown, run: Run) => void;
}

interface Progress {
  /** The model server took the request: from then on its prompt counts, even if the run fails. */
  accepted: boolean;
  text: string;
  firstTokenAt: number | undefined;
  finishReason: string | undefined;
  reported: { inputTokens: number; outputTokens: number } | undefined;
  /** Brook stopped waiting for the model (timeout): what it may have billed is estimated. */
  abandoned?: boolean;
}

/**
 * Generates one run: the start event, the model's text as content events, and exactly one
 * terminal event (complete or error) that carries usage, also when the run failed midway.
 */
export async function executeRun(run: Run, request: ParsedChatRequest, deps: AgentDependencies): Promise<void> {
  const { signal } = run;
  const messages = buildMessages(request, deps.defaultSystemPrompt);
  const progress: Progress = {
    accepted: false,
    text: "",
    firstTokenAt: undefined,
    finishReason: undefined,
    reported: undefined,
  };
  run.append({ type: "start", message: START_MESSAGE, run_id: run.id, model: run.model });
  try {
    const parts = deps.model.stream({
      model: run.model,
      messages,
      temperature: request.temperature ?? undefined,
      maxTokens: request.max_tokens ?? undefined,
      signal,
    });
    for await (const part of parts) {
      if (part.type === "accepted") {
        progress.accepted = true;
      } else if (part.type === "text") {
        progress.firstTokenAt ??= performance.now();
        progress.text += part.text;
        if (!run.append({ type: "content", chunk: part.text })) await run.waitForRoom(signal);
      } else if (part.type === "finish") {
        progress.finishReason = part.reason;
      } else {
        progress.reported = { inputTokens: part.inputTokens, outputTokens: part.outputTokens };
      }
    }
    if (signal.aborted) throw abortReason(signal);
    if (progress.finishReason === undefined) {
      throw new BrookError("upstream_incomplete", "The model server ended the stream without finishing the answer.");
    }
    const usage = await measureUsage(run, messages, progress, deps.prices);
    const timing = measureTiming(run, progress, usage);
    const complete = { full_content: progress.text, usage, finish_reason: progress.finishReason, timing };
    finish(run, deps, { type: "complete", ...complete }, timing);
  } catch (thrown) {
    const error = asBrookError(thrown, run, deps);
    // A call given up on (timeout) may still be billed, like a cancelled one.
    if (error.code === "timeout") progress.abandoned = true;
    const usage = await measureUsage(run, messages, progress, deps.prices);
    finish(
      run,
      deps,
      { type: "error", error: error.message, code: error.code, retryable: error.retryable, usage },
      measureTiming(run, progress, usage),
    );
  }
}

function buildMessages(request: ParsedChatRequest, defaultSystemPrompt: string): ModelMessage[] {
  const messages: ModelMessage[] = [];
  // An explicit empty system prompt means "none"; an absent one means the default.
  const system = request.system_prompt ?? defaultSystemPrompt;
  if (system !== "") messages.push({ role: "system", content: system });
  for (const message of request.history ?? []) messages.push(message);
  messages.push({ role: "user", content: request.message });
  return messages;
}

function asBrookError(thrown: unknown, run: Run, deps: AgentDependencies): BrookError {
  if (thrown instanceof BrookError) return thrown;
  if (run.signal.aborted) return abortReason(run.signal);
  deps.onInternalError(thrown, run);
  return new BrookError("internal");
}

async function measureUsage(
  run: Run,
  messages: ModelMessage[],
  progress: Progress,
  prices: PriceTable,
): Promise<Usage> {
  const reported = progress.reported;
  // A request the model server refused (401, 429, unreachable…) used nothing and costs nothing.
  // One cancelled while the server was still reading the prompt may be billed: it is estimated.
  if (!progress.accepted && reported === undefined && !run.signal.aborted && !progress.abandoned) {
    return { ...emptyUsage, priced: prices.price(run.model, 0, 0).priced };
  }
  const estimated = reported === undefined;
  const inputTokens = reported?.inputTokens ?? (await tokenCounter.messages(messages));
  const outputTokens = reported?.outputTokens ?? (await tokenCounter.text(progress.text));
  const price = prices.price(run.model, inputTokens, outputTokens);
  return {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    total_cost: price.cost,
    estimated,
    priced: price.priced,
  };
}

function measureTiming(run: Run, progress: Progress, usage: Usage): Timing {
  const now = performance.now();
  const generating = progress.firstTokenAt === undefined ? 0 : (now - progress.firstTokenAt) / 1000;
  return {
    ttft_ms: progress.firstTokenAt === undefined ? null : round(progress.firstTokenAt - run.startedAt),
    duration_ms: round(now - run.startedAt),
    tokens_per_s: generating > 0 ? round(usage.output_tokens / generating) : 0,
  };
}

function finish(run: Run, deps: AgentDependencies, event: TerminalEvent, timing: Timing): void {
  run.append(event);
  deps.stats.record({
    kind: run.kind,
    outcome: event.type === "complete" ? "succeeded" : event.code === "cancelled" ? "cancelled" : "failed",
    model: run.model,
    usage: event.usage,
    ttftMs: timing.ttft_ms,
    durationMs: timing.duration_ms,
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
