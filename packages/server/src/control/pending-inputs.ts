import { abortReason } from "../errors/brook-error.js";

/**
 * How an answer to a pending input was taken: the first one that fits counts, later ones are
 * refused; one that does not fit (`invalid`, with what is wrong) leaves the input waiting.
 */
export type InputOutcome = "answered" | "already_answered" | "not_found" | InvalidAnswer;

/** An answer that does not fit what was asked (which field, and what is wrong): the input still waits. */
export interface InvalidAnswer {
  readonly field: string;
  readonly problem: string;
}

/** Says what is wrong with an answer, or undefined when it fits. */
export type AnswerCheck = (value: unknown) => InvalidAnswer | undefined;

/** What a run waiting for an input gets: the answer's value, or nothing when nobody answered in time. */
export type InputAnswer = { readonly answered: true; readonly value: unknown } | { readonly answered: false };

/**
 * The inputs one run waits for from people (a tool call's approval; anything else a run may
 * need to ask). The run registers an input, says so in its events, then awaits the answer with its
 * AbortSignal; the answer arrives through `answer()` on this instance, whichever instance the
 * person sent it to (`RunControl.answer` forwards it over `InstanceMessages`).
 */
export class RunInputs {
  // Both made on the first input: most runs never ask, and an open stream should not carry them.
  /** Inputs being waited for, with what settles each. */
  #waiting: Map<string, { settle: (answer: InputAnswer) => void; check: AnswerCheck | undefined }> | undefined;
  /** Inputs that were asked and are settled (answered, timed out or abandoned): a second answer is a conflict. */
  #settled: Set<string> | undefined;

  /** @param onWaiting told when the run starts waiting for a person (true) and when it no longer waits for any (false). */
  constructor(private readonly onWaiting?: (waiting: boolean) => void) {}

  get waiting(): boolean {
    return this.#waiting !== undefined && this.#waiting.size > 0;
  }

  /**
   * Registers `inputId` now (an answer that arrives before the caller awaits still counts) and
   * resolves with its answer, or unanswered after `timeoutMs`, exactly once. Rejects with the
   * run's abort reason when `signal` aborts first. Answers that `check` refuses are `invalid`
   * and do not settle it.
   */
  expect(inputId: string, timeoutMs: number, signal: AbortSignal, check?: AnswerCheck): Promise<InputAnswer> {
    this.#waiting ??= new Map();
    this.#settled ??= new Set();
    const waiting = this.#waiting;
    const settled = this.#settled;
    if (waiting.has(inputId) || settled.has(inputId)) {
      return Promise.reject(new Error(`the input ${inputId} was asked for already`));
    }
    return new Promise<InputAnswer>((resolve, reject) => {
      const settle = (answer: InputAnswer | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const waited = waiting.delete(inputId);
        settled.add(inputId);
        if (waited && waiting.size === 0) this.onWaiting?.(false);
        if (answer === undefined) reject(abortReason(signal));
        else resolve(answer);
      };
      const onAbort = () => settle(undefined);
      const timer = setTimeout(() => settle({ answered: false }), timeoutMs);
      // A run's wait holds nothing open: MAX_RUN_MS and shutdown end it through the signal.
      timer.unref();
      if (signal.aborted) return settle(undefined);
      signal.addEventListener("abort", onAbort, { once: true });
      if (waiting.size === 0) this.onWaiting?.(true);
      waiting.set(inputId, { settle: (answer) => settle(answer), check });
    });
  }

  /** Gives `inputId` its answer: the first answer counts; a later one, or one after the timeout, is refused. */
  answer(inputId: string, value: unknown): InputOutcome {
    const waiting = this.#waiting?.get(inputId);
    if (waiting !== undefined) {
      const invalid = waiting.check?.(value);
      if (invalid !== undefined) return invalid;
      waiting.settle({ answered: true, value });
      return "answered";
    }
    return this.#settled?.has(inputId) === true ? "already_answered" : "not_found";
  }
}
