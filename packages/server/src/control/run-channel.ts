import type { InputOutcome } from "./pending-inputs.js";
import type { CancelOutcome } from "./run-control.js";

/**
 * How instances that share runs ask each other to cancel one: the instance a request lands on
 * may not be the one generating the run.
 */
export interface RunChannel {
  /** Asks the instance producing `runId` to cancel it. */
  requestCancel(runId: string): Promise<CancelOutcome>;
  /** Told when another instance asks this one to cancel a run it produces. */
  onCancelRequest(listener: (runId: string) => void): void;
  /**
   * Gives the instance producing `runId` an answer to an input the run waits for; resolves with how
   * it was taken there (`finished` when the run ended or its producer is gone).
   */
  requestAnswer(runId: string, inputId: string, value: unknown): Promise<InputOutcome | "finished">;
  /** Told when another instance brings an answer for a run this one produces; returns how it was taken. */
  onAnswerRequest(listener: (runId: string, inputId: string, value: unknown) => InputOutcome | "finished"): void;
}
