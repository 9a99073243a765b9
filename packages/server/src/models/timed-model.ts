import { BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";

export interface ModelTimeouts {
  /** Longest wait from the call to the model's first output (retries included); 0: none. */
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

  async *stream(call: ModelCall): AsyncGenerator<ModelPart> {
    const { firstTokenMs, idleMs } = this.timeouts;
    const controller = new AbortController();
    const forward = () => controller.abort(call.signal.reason);
    if (call.signal.aborted) forward();
    else call.signal.addEventListener("abort", forward, { once: true });

    const firstTokenDeadline = firstTokenMs > 0 ? performance.now() + firstTokenMs : undefined;
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const fire = (text: string) => () => controller.abort(new BrookError("timeout", text));
      if (!started && firstTokenDeadline !== undefined) {
        const left = Math.max(0, firstTokenDeadline - performance.now());
        timer = setTimeout(fire(`The model sent no answer within ${firstTokenMs} ms (FIRST_TOKEN_TIMEOUT_MS).`), left);
      } else if (started && idleMs > 0) {
        timer = setTimeout(fire(`The model went silent for ${idleMs} ms mid-answer (IDLE_TIMEOUT_MS).`), idleMs);
      }
    };

    const iterator = this.inner.stream({ ...call, signal: controller.signal })[Symbol.asyncIterator]();
    try {
      for (;;) {
        arm();
        let next: IteratorResult<ModelPart>;
        try {
          next = await untilAborted(iterator.next(), controller.signal);
        } finally {
          clearTimeout(timer);
        }
        if (next.done) return;
        // Anything past the acceptance (text, tool calls, finish, usage) is the model talking.
        if (next.value.type !== "accepted") started = true;
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
      // Closes the adapter's generator (and its upstream request) if it has not ended.
      controller.abort(call.signal.reason ?? new BrookError("cancelled"));
      void iterator.return?.()?.catch(() => {});
    }
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
