import { BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";

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

  async *stream(call: ModelCall): AsyncGenerator<readonly ModelPart[]> {
    const { firstTokenMs, idleMs } = this.timeouts;
    const controller = new AbortController();
    const forward = () => controller.abort(call.signal.reason);
    if (call.signal.aborted) forward();
    else call.signal.addEventListener("abort", forward, { once: true });

    const firstTokenDeadline = firstTokenMs > 0 ? performance.now() + firstTokenMs : undefined;
    let started = false;
    /** When the current wait for the model began; undefined while the consumer has the part. */
    let waitingSince: number | undefined;
    // One timer per call, re-armed only when it fires (not per part): the hot path only notes times.
    let timer: NodeJS.Timeout | undefined;
    const expire = (text: string) => controller.abort(new BrookError("timeout", text));
    const check = () => {
      timer = undefined;
      if (waitingSince === undefined) return; // the next wait re-arms it
      const now = performance.now();
      if (!started) {
        if (firstTokenDeadline === undefined) return;
        if (now >= firstTokenDeadline) {
          expire(`The model sent no answer within ${firstTokenMs} ms (FIRST_TOKEN_TIMEOUT_MS).`);
        } else timer = setTimeout(check, firstTokenDeadline - now);
      } else if (idleMs > 0) {
        const silent = now - waitingSince;
        if (silent >= idleMs) expire(`The model went silent for ${idleMs} ms mid-answer (IDLE_TIMEOUT_MS).`);
        else timer = setTimeout(check, idleMs - silent);
      }
    };
    const beginWait = () => {
      waitingSince = performance.now();
      if (timer !== undefined) return;
      if (!started && firstTokenDeadline !== undefined) {
        timer = setTimeout(check, Math.max(0, firstTokenDeadline - waitingSince));
      } else if (started && idleMs > 0) timer = setTimeout(check, idleMs);
    };

    const iterator = this.inner.stream({ ...call, signal: controller.signal })[Symbol.asyncIterator]();
    let completed = false;
    try {
      for (;;) {
        beginWait();
        // No race against the abort: the adapter's own awaits take the signal (the ChatModel
        // contract), and a race would leave one reaction on a long-lived promise per batch.
        const next = await iterator.next();
        waitingSince = undefined;
        if (next.done) {
          completed = true;
          return;
        }
        // Anything past the acceptance (reasoning, text, tool calls, finish, usage) is the model
        // talking: a model that thinks for minutes before answering is not silent.
        if (!started && next.value.some((part) => part.type !== "accepted")) {
          started = true;
          // The first-token clock stops; the idle clock starts with the next wait.
          clearTimeout(timer);
          timer = undefined;
        }
        yield next.value;
      }
    } catch (error) {
      // Our own deadline, not the caller's abort: report the timeout, whatever the adapter made of it.
      const reason: unknown = controller.signal.reason;
      if (!call.signal.aborted && reason instanceof BrookError && reason.code === "timeout") throw reason;
      throw error;
    } finally {
      call.signal.removeEventListener("abort", forward);
      clearTimeout(timer);
      if (!completed) {
        // Closes the adapter's generator (and its upstream request) if it has not ended. A call
        // that ended by itself has nothing to close: no abort (and no error built) on the common path.
        controller.abort(call.signal.reason ?? new BrookError("cancelled"));
        void iterator.return?.()?.catch(() => {});
      }
    }
  }
}
