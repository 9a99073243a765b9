import { BrookError } from "../errors/brook-error.js";
import {
  type ChatModel,
  canPush,
  type ModelCall,
  type ModelPart,
  type PartsSink,
  type PushableParts,
  pullParts,
} from "./chat-model.js";

export interface ModelTimeouts {
  /** Longest wait from the call to the model's first output, reasoning included (retries included); 0: none. */
  firstTokenMs: number;
  /** Longest silence between two parts once output has begun; 0: none. */
  idleMs: number;
}

/**
 * Wraps a model so that a silent upstream ends the call with code `timeout`: the call gets its
 * own AbortController (linked to the run's signal), which is aborted when a deadline passes,
 * so the upstream request is closed too. Only the model's silence counts: while the run waits
 * for a slow reader (backpressure), no clock runs.
 */
export class TimedChatModel implements ChatModel {
  constructor(
    private readonly inner: ChatModel,
    private readonly timeouts: ModelTimeouts,
  ) {}

  get mode() {
    return this.inner.mode;
  }

  stream(call: ModelCall): AsyncIterableIterator<readonly ModelPart[]> & PushableParts {
    return new TimedParts(this.inner, this.timeouts, call);
  }
}

const ended: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One timed call. One timer per call, re-armed only when it fires (not per part): the hot path
 * only notes times. Pulled, or pushed when the inner stream can push.
 */
class TimedParts implements AsyncIterableIterator<readonly ModelPart[]>, PushableParts {
  readonly #call: ModelCall;
  readonly #timeouts: ModelTimeouts;
  readonly #controller = new AbortController();
  readonly #iterator: AsyncIterator<readonly ModelPart[]>;
  readonly #firstTokenDeadline: number | undefined;
  #started = false;
  /** When the current wait for the model began; undefined while the consumer has the part. */
  #waitingSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Ended (completed, failed or stopped): the timer and the link to the run's signal are gone. */
  #over = false;

  constructor(inner: ChatModel, timeouts: ModelTimeouts, call: ModelCall) {
    this.#call = call;
    this.#timeouts = timeouts;
    if (call.signal.aborted) this.#forward();
    else call.signal.addEventListener("abort", this.#forward, { once: true });
    this.#firstTokenDeadline = timeouts.firstTokenMs > 0 ? performance.now() + timeouts.firstTokenMs : undefined;
    this.#iterator = inner.stream({ ...call, signal: this.#controller.signal })[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<readonly ModelPart[]>> {
    if (this.#over) return Promise.resolve(ended);
    this.#beginWait();
    // No race against the abort: the adapter's own awaits take the signal (the ChatModel
    // contract), and a race would leave one reaction on a long-lived promise per batch.
    return this.#iterator.next().then(this.#onNext, this.#onError);
  }

  async return(): Promise<IteratorResult<readonly ModelPart[]>> {
    this.#end(false);
    return ended;
  }

  async pushParts(sink: PartsSink): Promise<void> {
    const iterator = this.#iterator;
    if (this.#over) return;
    if (!canPush(iterator)) return pullParts(this, sink);
    this.#beginWait();
    try {
      await iterator.pushParts((parts) => {
        this.#waitingSince = undefined;
        this.#noteOutput(parts);
        const wait = sink(parts);
        if (wait === undefined) {
          this.#beginWait();
          return undefined;
        }
        // While the run waits for a slow reader (backpressure), no clock runs.
        return wait.then(this.#beginWait);
      });
      this.#end(true);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  readonly #forward = () => this.#controller.abort(this.#call.signal.reason);

  readonly #onNext = (next: IteratorResult<readonly ModelPart[]>) => {
    this.#waitingSince = undefined;
    if (next.done === true) this.#end(true);
    else this.#noteOutput(next.value);
    return next;
  };

  readonly #onError = (error: unknown): never => {
    throw this.#failure(error);
  };

  /** Anything past the acceptance (reasoning, text, tool calls, finish, usage) is the model talking. */
  #noteOutput(parts: readonly ModelPart[]): void {
    if (this.#started || !parts.some((part) => part.type !== "accepted")) return;
    // A model that thinks for minutes before answering is not silent.
    this.#started = true;
    // The first-token clock stops; the idle clock starts with the next wait.
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** What to throw for a failure: our own deadline's timeout, whatever the adapter made of it. */
  #failure(error: unknown): unknown {
    const reason: unknown = this.#controller.signal.reason;
    this.#end(false);
    if (!this.#call.signal.aborted && reason instanceof BrookError && reason.code === "timeout") return reason;
    return error;
  }

  /**
   * Unlinks from the run's signal and stops the clock, once. A call that did not complete has its
   * adapter's stream (and upstream request) closed; one that completed has nothing to close: no
   * abort (and no error built) on the common path.
   */
  #end(completed: boolean): void {
    if (this.#over) return;
    this.#over = true;
    this.#call.signal.removeEventListener("abort", this.#forward);
    clearTimeout(this.#timer);
    if (!completed) {
      this.#controller.abort(this.#call.signal.reason ?? new BrookError("cancelled"));
      void this.#iterator.return?.()?.catch(() => {});
    }
  }

  readonly #beginWait = () => {
    const waitingSince = performance.now();
    this.#waitingSince = waitingSince;
    if (this.#timer !== undefined || this.#over) return;
    const { idleMs } = this.#timeouts;
    if (!this.#started && this.#firstTokenDeadline !== undefined) {
      this.#timer = setTimeout(this.#check, Math.max(0, this.#firstTokenDeadline - waitingSince));
    } else if (this.#started && idleMs > 0) this.#timer = setTimeout(this.#check, idleMs);
  };

  readonly #check = () => {
    this.#timer = undefined;
    const waitingSince = this.#waitingSince;
    if (waitingSince === undefined || this.#over) return; // the next wait re-arms it
    const now = performance.now();
    const { firstTokenMs, idleMs } = this.#timeouts;
    if (!this.#started) {
      if (this.#firstTokenDeadline === undefined) return;
      if (now >= this.#firstTokenDeadline) {
        this.#expire(`The model sent no answer within ${firstTokenMs} ms (FIRST_TOKEN_TIMEOUT_MS).`);
      } else this.#timer = setTimeout(this.#check, this.#firstTokenDeadline - now);
    } else if (idleMs > 0) {
      const silent = now - waitingSince;
      if (silent >= idleMs) this.#expire(`The model went silent for ${idleMs} ms mid-answer (IDLE_TIMEOUT_MS).`);
      else this.#timer = setTimeout(this.#check, idleMs - silent);
    }
  };

  #expire(text: string): void {
    this.#controller.abort(new BrookError("timeout", text));
  }
}
