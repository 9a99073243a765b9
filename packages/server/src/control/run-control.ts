import type { TerminalEvent, Timing } from "@brook/shared";
import type { BrookError } from "../errors/brook-error.js";
import type { RunLog, RunLogWriter } from "../storage/run-log.js";
import type { InputOutcome, RunInputs } from "./pending-inputs.js";
import type { RunRequest } from "./run-request.js";

export type RunKind = "streaming" | "non_streaming";

export interface StartOptions {
  kind: RunKind;
  /**
   * A resumable run outlives its connection: it waits the grace period for a reader to return,
   * and stays readable for a while after it ends. Any other run belongs to the connection that
   * started it: it is aborted when its reader leaves and forgotten once it ends.
   */
  resumable: boolean;
  /**
   * Resumable, and more (the AI SDK's contract): the run never waits for readers, and keeps every
   * event, so that a reader that comes back can read it again from its first. Its bounds: the
   * grace period once its readers left, RUN_MAX_BYTES kept (past it: `run_too_large`), MAX_RUN_MS.
   */
  replayable?: boolean;
  /**
   * The identity of the API key that starts the run (ApiKeys.ownerOf): only that key finds and
   * cancels it, and it counts against that key's cap (MAX_RUNS_PER_KEY). Undefined when keys are off.
   */
  owner?: string | undefined;
}

/** A run as the surface that started it sees it: read it through `log`. */
export interface StartedRun {
  readonly id: string;
  readonly model: string;
  readonly log: RunLog;
  /** Resolves once readers on other instances can find the run (at once on a single instance). */
  readonly visible: Promise<void>;
}

export type CancelOutcome = "cancelled" | "finished" | "not_found";

/** How an answer to a run's input was taken; `finished`: the run ended, nothing waits any more. */
export type AnswerOutcome = InputOutcome | "finished";

/**
 * The lifecycle of runs: starting them (within the concurrency cap, not while draining),
 * finding them for late readers, cancelling them from any caller, grace periods for resumable
 * runs whose readers left, `MAX_RUN_MS`, and draining at shutdown. Storage is the RunStore's.
 */
export interface RunControl {
  /** Runs generating now on this instance. */
  readonly activeCount: number;
  /** True once shutdown began: no new run starts. */
  readonly draining: boolean;
  /**
   * Starts a run. Throws (before anything is billed) `shutdown` while draining, `bad_request`
   * beyond the field limits, `overloaded` at the concurrency cap, `too_many_runs` at its owner's cap.
   */
  start(request: RunRequest, options: StartOptions): StartedRun;
  /**
   * A run's log, running or finished a short while ago; undefined when unknown, and when `caller`
   * (the identity of the caller's key) may not see it: another key's run is not confirmed to exist.
   */
  find(runId: string, caller: string | undefined): Promise<RunLog | undefined>;
  /** Aborts a running run `caller` may see: its log ends with an `error` event of code `cancelled`. */
  cancel(runId: string, caller: string | undefined): Promise<CancelOutcome>;
  /**
   * Answers an input (a tool call's approval) that a run `caller` may see waits for, on whichever
   * instance produces it. Throws `unavailable` when the shared state cannot be reached.
   */
  answer(runId: string, inputId: string, value: unknown, caller: string | undefined): Promise<AnswerOutcome>;
  /** Refuses new runs from now on (code `shutdown`); running ones go on. */
  drain(): void;
  /** Resolves when no run is generating. */
  idle(): Promise<void>;
  /** Aborts every running run with `reason` and waits until each has ended. */
  abortAll(reason: BrookError): Promise<void>;
}

/**
 * Whether a caller may read and cancel a run: any caller when keys are off (no caller identity),
 * a run started while keys were off by anyone, else only the key that started it.
 */
export function visibleTo(owner: string | undefined, caller: string | undefined): boolean {
  return caller === undefined || owner === undefined || owner === caller;
}

/** What the agent loop gets of the run it generates. */
export interface RunContext {
  readonly id: string;
  readonly model: string;
  /** `performance.now()` when the run started. */
  readonly startedAt: number;
  /** Aborted when the run is cancelled, times out, or is abandoned; its reason is a BrookError. */
  readonly signal: AbortSignal;
  readonly log: RunLogWriter;
  /** What the run waits for from people: registered, announced in an event, then awaited with `signal`. */
  readonly inputs: RunInputs;
}

/** How a run ended: its terminal event (also in its log) and its timing. */
export interface RunOutcome {
  terminal: TerminalEvent;
  timing: Timing;
  /** The model that answered, when not the one asked for (a fallback): observers count the run under it. */
  model?: string;
}

/** Generates a run's events; it must end the log with exactly one terminal event. */
export type RunExecutor = (run: RunContext, request: RunRequest) => Promise<RunOutcome>;

/** One ended run, as observers (stats, metrics, the run's log line) learn of it. */
export interface RunEnded extends RunOutcome {
  id: string;
  kind: RunKind;
  model: string;
  request: RunRequest;
}

export type RunObserver = (ended: RunEnded) => void;
