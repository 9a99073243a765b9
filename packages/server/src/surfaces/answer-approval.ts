import type { ApprovalAnswer, ApproveResult } from "@brook/shared";
import type { RunControl } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";

/**
 * Gives a run's `tool_approval` its answer (REST and tRPC): unknown run or approval (or another
 * key's run) → `not_found`, answered already, timed out or the run ended → `already_answered`.
 */
export async function answerApproval(
  control: Pick<RunControl, "answer">,
  runId: string,
  approvalId: string,
  answer: ApprovalAnswer,
  caller: string | undefined,
): Promise<ApproveResult> {
  const outcome = await control.answer(runId, approvalId, answer, caller);
  if (typeof outcome === "object") throw new InputError({ [outcome.field]: [outcome.problem] });
  switch (outcome) {
    case "answered":
      return { run_id: runId, approval_id: approvalId, approved: answer.approved };
    case "not_found":
      throw new BrookError("not_found", `No approval ${approvalId} of a running run ${runId}.`);
    case "already_answered":
      throw new BrookError("already_answered", `The approval ${approvalId} was answered already, or timed out.`);
    case "finished":
      throw new BrookError("already_answered", `The run ${runId} has ended: nothing waits for approval ${approvalId}.`);
  }
}
