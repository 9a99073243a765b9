import type { ChatEvent, ChatResult } from "@brook/shared";
import type { StartedRun } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";

type ToolCalls = NonNullable<ChatResult["tool_calls"]>;

/**
 * The non-streaming encoding (`POST /chat`, `chat.complete`): a run's events folded into one
 * answer. A failed run is its BrookError, with the usage it had.
 */
export class FoldEncoder {
  readonly #calls: ToolCalls = [];
  #result: ChatResult | undefined;
  #error: BrookError | undefined;

  constructor(private readonly run: Pick<StartedRun, "id" | "model">) {}

  event(event: ChatEvent): void {
    switch (event.type) {
      case "tool_call":
        this.#calls.push({ call: { id: event.id, name: event.name, arguments: event.arguments }, result: null });
        break;
      case "tool_result": {
        const entry = this.#calls.find((candidate) => candidate.call.id === event.id && candidate.result === null);
        if (entry !== undefined) {
          entry.result = { id: event.id, name: event.name, result: event.result, is_error: event.is_error };
        }
        break;
      }
      case "complete":
        this.#result = {
          response: event.full_content,
          ...(event.full_reasoning === undefined ? {} : { reasoning: event.full_reasoning }),
          usage: event.usage,
          model: this.run.model,
          run_id: this.run.id,
          finish_reason: event.finish_reason,
          timing: event.timing,
          ...(this.#calls.length > 0 ? { tool_calls: this.#calls } : {}),
        };
        break;
      case "error":
        this.#error = new BrookError(event.code, event.error, { usage: event.usage });
        break;
      default:
        break;
    }
  }

  /** The answer; throws the run's error, or `internal` when the run has not ended. */
  result(): ChatResult {
    if (this.#error !== undefined) throw this.#error;
    if (this.#result === undefined) throw new BrookError("internal", "The run ended without an answer.");
    return this.#result;
  }
}

/** Reads a run to its end and folds it into one answer. */
export async function foldRun(run: Pick<StartedRun, "id" | "model" | "log">, signal: AbortSignal): Promise<ChatResult> {
  const fold = new FoldEncoder(run);
  const reader = run.log.reader(0);
  try {
    for (;;) {
      const events = await reader.read(Number.POSITIVE_INFINITY, signal);
      for (const event of events) fold.event(event);
      if (reader.done) return fold.result();
    }
  } catch (error) {
    // The caller left: that is a cancelled request, not a server failure.
    throw signal.aborted && !(error instanceof BrookError) ? new BrookError("cancelled") : error;
  } finally {
    reader.close();
  }
}
