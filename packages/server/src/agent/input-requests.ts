import { randomUUID } from "node:crypto";
import { InputAnswer, type InputRequestEvent } from "@brook/shared";
import type { RunContext } from "../control/run-control.js";
import type { ModelToolCall } from "../models/chat-model.js";
import type { AskInput, InputReply } from "../tools/input-questions.js";
import { type InputContent, inputContent } from "./input-content.js";

/** What an answer to a server's question ends as, for the metrics: the person's action, or `timed_out`. */
export type InputDecision = InputReply["action"] | "timed_out";

export interface InputAsking {
  /** How long a question waits for its answer before it is declined (INPUT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Told when a question is asked and how it ended. */
  onInput?: ((event: "requested" | InputDecision) => void) | undefined;
}

/**
 * How one tool call of a run asks its person a server's question: registered with the run's
 * pending inputs (before any event says so: an answer may come at once), announced in an
 * `input_request` event after the call's `tool_call`, and awaited with the run's signal. An
 * accepted answer has been checked against the requested schema (one that does not fit is
 * refused with 400 and the question still waits) and gets its defaults; nobody answering in
 * time declines, and the call's result says so.
 */
export function inputAsker(run: RunContext, call: ModelToolCall, asking: InputAsking): AskInput {
  return async ({ server, message, requestedSchema }) => {
    let content: InputContent;
    try {
      content = inputContent(requestedSchema);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return {
        action: "decline",
        note: `[The MCP server "${server}" asked for input with a schema Brook cannot read (${why}); Brook declined.]`,
      };
    }
    const inputId = randomUUID();
    const answer = run.inputs.expect(inputId, asking.timeoutMs, run.signal, (value) => content.check(value));
    run.log.append([
      {
        type: "input_request",
        input_id: inputId,
        id: call.id,
        name: call.name,
        server,
        message,
        requested_schema: requestedSchema as InputRequestEvent["requested_schema"],
      },
    ]);
    asking.onInput?.("requested");
    const got = await answer;
    if (!got.answered) {
      asking.onInput?.("timed_out");
      return {
        action: "decline",
        note: `[The MCP server "${server}" asked for input ("${message}"); nobody answered within ${asking.timeoutMs} ms, so Brook declined.]`,
      };
    }
    // Checked when it was given: it parses.
    const { action, content: given } = InputAnswer.parse(got.value);
    asking.onInput?.(action);
    return action === "accept" ? { action, content: content.fill(given) } : { action };
  };
}
