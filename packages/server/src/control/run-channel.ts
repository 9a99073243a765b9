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
}
