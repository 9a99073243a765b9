import type { ChatResult } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import type { Run } from "./run.js";

/**
 * Reads a run to its end and folds it into one answer (the non-streaming routes).
 * A failed run throws its BrookError, with the usage it had.
 */
export async function foldRun(run: Run, signal: AbortSignal): Promise<ChatResult> {
  const calls: NonNullable<ChatResult["tool_calls"]> = [];
  try {
    return await fold(run, signal, calls);
  } catch (error) {
    // The caller left: that is a cancelled request, not a server failure.
    throw signal.aborted && !(error instanceof BrookError) ? new BrookError("cancelled") : error;
  }
}

async function fold(run: Run, signal: AbortSignal, calls: NonNullable<ChatResult["tool_calls"]>): Promise<ChatResult> {
  for await (const [, event] of run.events(0, signal)) {
    switch (event.type) {
      case "tool_call":
        calls.push({ call: { id: event.id, name: event.name, arguments: event.arguments }, result: null });
        break;
      case "tool_result": {
        const entry = calls.find((candidate) => candidate.call.id === event.id && candidate.result === null);
        if (entry !== undefined) {
          entry.result = { id: event.id, name: event.name, result: event.result, is_error: event.is_error };
        }
        break;
      }
      case "complete":
        return {
          response: event.full_content,
          usage: event.usage,
          model: run.model,
          run_id: run.id,
          finish_reason: event.finish_reason,
          timing: event.timing,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        };
      case "error":
        throw new BrookError(event.code, event.error, { usage: event.usage });
      default:
        break;
    }
  }
  throw new BrookError("internal", "The run ended without an answer.");
}
