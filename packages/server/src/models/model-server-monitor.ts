import type { ModelServerStatus } from "@brook/shared";
import type { ModelServerCheck } from "./model-server-check.js";

export interface ModelServerMonitorOptions {
  /** One check of the model server (`checkModelServer`); `signal` stops it at shutdown. */
  check: (signal: AbortSignal) => Promise<ModelServerCheck>;
  /** Wait after one check ends before the next; 0: only the check at start-up. */
  intervalMs: number;
  log: { info(message: string): void; warn(message: string): void };
}

/**
 * What Brook knows of the model server: checked at start-up and on an interval, and told by the
 * model calls of runs (a call that cannot connect marks it unreachable at once, an answered one
 * marks it ok). A failure is logged once, when it starts or changes, not at every check.
 */
export class ModelServerMonitor {
  #state: Omit<ModelServerStatus, "checked_at"> = {
    status: "checking",
    detail: "Asking the model server for its models…",
  };
  /** Date.now() of the last check or report; the ISO text is made only when /health asks. */
  #checkedAt: number | undefined;
  #warned: string | undefined;
  #checking: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #stopping = new AbortController();

  constructor(private readonly options: ModelServerMonitorOptions) {}

  /** Runs the first check in the background: Brook does not wait for it. */
  start(): void {
    this.#check();
  }

  get state(): ModelServerStatus["status"] {
    return this.#state.status;
  }

  status(): ModelServerStatus {
    return {
      ...this.#state,
      checked_at: this.#checkedAt === undefined ? null : new Date(this.#checkedAt).toISOString(),
    };
  }

  /** A run's model call could not connect to the model server. */
  unreachable(): void {
    this.#record(
      { status: "unreachable", detail: "A model call could not connect (check OPENAI_BASE_URL)." },
      "A model call could not connect to the model server; /health/ready answers 503 until it answers again. Check OPENAI_BASE_URL.",
    );
  }

  /** A run's model calls were answered. */
  answered(): void {
    if (this.#state.status === "ok") this.#checkedAt = Date.now();
    else this.#record({ status: "ok", detail: "A model call was answered." }, undefined);
  }

  /** Stops checking; a check under way ends as `unchecked`. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#timer);
    await this.#checking;
  }

  #check(): void {
    if (this.#stopping.signal.aborted || this.#checking !== undefined) return;
    this.#checking = this.options
      .check(this.#stopping.signal)
      .then((outcome) => {
        if (this.#stopping.signal.aborted) this.#state = outcome.status;
        else this.#record(outcome.status, outcome.warning);
      })
      .finally(() => {
        this.#checking = undefined;
        this.#schedule();
      });
  }

  #schedule(): void {
    if (this.options.intervalMs <= 0 || this.#stopping.signal.aborted) return;
    this.#timer = setTimeout(() => this.#check(), this.options.intervalMs);
    // Checks never keep Brook's process alive.
    this.#timer.unref();
  }

  #record(state: Omit<ModelServerStatus, "checked_at">, warning: string | undefined): void {
    const wasDown = this.#state.status !== "ok" && this.#state.status !== "checking";
    this.#state = state;
    this.#checkedAt = Date.now();
    if (warning !== undefined && warning !== this.#warned) this.options.log.warn(warning);
    this.#warned = warning;
    if (state.status === "ok" && wasDown) this.options.log.info("The model server answers again.");
  }
}
