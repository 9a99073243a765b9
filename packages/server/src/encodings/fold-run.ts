import type { ChatEvent, ChatResult } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { callerLeft, fromErrorEvent } from "../errors/error-shapes.js";
import type { RunLog } from "../storage/run-log.js";

/** A non-streaming encoding: a run's events folded into one answer. */
export interface RunFold<T> {
  event(event: ChatEvent): void;
  /** The answer; throws the run's error, or `internal` when the run has not ended. */
  result(): T;
}

/** Reads a run to its end and folds it into one answer; a caller that left is `cancelled`. */
export async function foldRun<T>(log: RunLog, fold: RunFold<T>, signal: AbortSignal): Promise<T> {
  const reader = log.reader(0);
  try {
    for (;;) {
      const events = await reader.read(Number.POSITIVE_INFINITY, signal);
      for (const event of events) fold.event(event);
      if (reader.done) return fold.result();
    }
  } catch (error) {
    throw callerLeft(error, signal);
  } finally {
    reader.close();
  }
}

type ToolCalls = NonNullable<ChatResult["tool_calls"]>;

/**
 * Brook's own answer (`POST /chat`, `chat.complete`): the run's text, reasoning, tool calls,
 * usage and timing. A failed run is its BrookError, with the usage it had.
 */
export class ChatResultFold implements RunFold<ChatResult> {
  readonly #calls: ToolCalls = [];
  #result: ChatResult | undefined;
  #error: BrookError | undefined;

  constructor(private readonly run: { readonly id: string; readonly model: string }) {}

  event(event: ChatEvent): void {
    switch (event.type) {
      case "tool_call":
        this.#calls.push({ call: { id: event.id, name: event.name, arguments: event.arguments }, result: null });
        break;
      case "tool_result": {
        const entry = this.#calls.find((candidate) => candidate.call.id === event.id && candidate.result === null);
        if (entry !== undefined) {
          const { type: _type, ...result } = event;
          entry.result = result;
        }
        break;
      }
      case "complete":
        this.#result = {
          response: event.full_content,
          ...(event.full_reasoning === undefined ? {} : { reasoning: event.full_reasoning }),
          usage: event.usage,
          // A fallback's answer names it (MODELS).
          model: event.model ?? this.run.model,
          run_id: this.run.id,
          finish_reason: event.finish_reason,
          timing: event.timing,
          ...(event.object === undefined ? {} : { object: event.object }),
          ...(this.#calls.length > 0 ? { tool_calls: this.#calls } : {}),
        };
        break;
      case "error":
        this.#error = fromErrorEvent(event);
        break;
      default:
        break;
    }
  }

  result(): ChatResult {
    if (this.#error !== undefined) throw this.#error;
    if (this.#result === undefined) throw new BrookError("internal", "The run ended without an answer.");
    return this.#result;
  }
}
