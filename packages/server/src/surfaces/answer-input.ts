import type { AnswerInputResult, InputAnswer } from "@brook/shared";
import type { RunControl } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";

/**
 * Gives a run's `input_request` its answer (REST and tRPC): content that does not fit the
 * requested schema → `bad_request` naming the field (the question still waits); unknown run or
 * input (or another key's run) → `not_found`; answered already, timed out or the run ended →
 * `already_answered`.
 */
export async function answerInput(
  control: Pick<RunControl, "answer">,
  runId: string,
  inputId: string,
  answer: InputAnswer,
  caller: string | undefined,
): Promise<AnswerInputResult> {
  const outcome = await control.answer(runId, inputId, answer, caller);
  if (typeof outcome === "object") {
    throw new InputError(
      { [outcome.field]: [outcome.problem] },
      `The answer does not fit what was asked: ${outcome.field} ${outcome.problem}.`,
    );
  }
  switch (outcome) {
    case "answered":
      return { run_id: runId, input_id: inputId, action: answer.action };
    case "not_found":
      throw new BrookError("not_found", `No input ${inputId} of a running run ${runId}.`);
    case "already_answered":
      throw new BrookError("already_answered", `The input ${inputId} was answered already, or timed out.`);
    case "finished":
      throw new BrookError("already_answered", `The run ${runId} has ended: nothing waits for input ${inputId}.`);
  }
}
