import { randomUUID } from "node:crypto";
import { emptyUsage } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import { compileOutput } from "../models/structured-output.js";
import type { RunLogWriter, RunStore } from "../storage/run-log.js";
import { RunInputs } from "./pending-inputs.js";
import { checkRequestLimits, type RequestLimits } from "./request-limits.js";
import type { RunChannel } from "./run-channel.js";
import {
  type AnswerOutcome,
  type CancelOutcome,
  type RunContext,
  type RunControl,
  type RunExecutor,
  type RunKind,
  type RunObserver,
  type RunOutcome,
  type StartedRun,
  type StartOptions,
  visibleTo,
} from "./run-control.js";
import { brookFieldNames, type RunRequest } from "./run-request.js";

export interface RunControllerOptions {
  store: RunStore;
  /** How cancels reach runs generating on other instances, when runs are shared. */
  channel?: RunChannel | undefined;
  execute: RunExecutor;
  /** Told about failures that are Brook's own bugs (callers see code `internal`). */
  onUnexpected: (error: unknown, runId: string) => void;
  /** Told of every run that ended, in order. */
  observers?: readonly RunObserver[];
  defaultModel: string;
  /** Throws a 400 when Brook cannot route to the model asked for (an unknown name with MODELS). */
  checkModel?: (model: string) => void;
  /** How long a resumable run whose readers all left (or that none claimed yet) waits for one. */
  graceMs: number;
  /** Events a run buffers ahead of its slowest reader before generation waits. */
  bufferEvents: number;
  /** Bytes a run buffers ahead of its slowest reader before generation waits (RUN_BUFFER_BYTES). */
  bufferBytes?: number;
  /** Bytes a replayable run keeps; past them it ends with `run_too_large` (RUN_MAX_BYTES). */
  maxBytes?: number;
  /** Runs generating at once; more are refused with `overloaded`. 0: no cap. */
  maxConcurrent?: number;
  /** Runs one owner (API key) may have generating at once; more are refused with `too_many_runs`. 0: no cap. */
  maxPerOwner?: number;
  /** A run still going after this long is ended with `timeout`. 0: never. */
  maxRunMs?: number;
  /** Field limits checked before a run starts. */
  limits?: RequestLimits;
}

/** The request with its `output` schema compiled; a schema that does not compile is a 400. */
function withOutput(request: RunRequest): RunRequest {
  if (request.output == null) return request;
  const field = request.fieldNames?.output_schema ?? brookFieldNames.output_schema;
  return { ...request, structuredOutput: compileOutput(request.output, field) };
}

/** A run generating on this instance. */
interface ActiveRun {
  readonly owner: string | undefined;
  readonly controller: AbortController;
  readonly ended: Promise<void>;
  readonly inputs: RunInputs;
}

/** The RunControl of one instance: the runs it generates, their grace periods and deadlines. */
export class RunController implements RunControl {
  readonly #active = new Map<string, ActiveRun>();
  /** Runs generating now per owner, for MAX_RUNS_PER_KEY. */
  readonly #perOwner = new Map<string, number>();
  #draining = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(private readonly options: RunControllerOptions) {
    options.channel?.onCancelRequest((runId) => this.#cancelHere(runId));
    options.channel?.onAnswerRequest((runId, inputId, value) => this.#answerHere(runId, inputId, value));
  }

  get activeCount(): number {
    return this.#active.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  drain(): void {
    this.#draining = true;
  }

  idle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  start(asked: RunRequest, { kind, resumable, replayable = false, owner }: StartOptions): StartedRun {
    const { options } = this;
    if (this.#draining) throw new BrookError("shutdown");
    if (options.limits !== undefined) checkRequestLimits(asked, options.limits);
    const request = withOutput(asked);
    const model = request.model ?? options.defaultModel;
    options.checkModel?.(model);
    const cap = options.maxConcurrent ?? 0;
    if (cap > 0 && this.#active.size >= cap) {
      throw new BrookError(
        "overloaded",
        `Brook is running ${cap} answers already (MAX_CONCURRENT_RUNS); retry shortly.`,
      );
    }
    const ownerCap = options.maxPerOwner ?? 0;
    const ownerRuns = owner === undefined ? 0 : (this.#perOwner.get(owner) ?? 0);
    if (owner !== undefined && ownerCap > 0 && ownerRuns >= ownerCap) {
      throw new BrookError(
        "too_many_runs",
        `This API key has ${ownerCap} answers running already (MAX_RUNS_PER_KEY); retry once one ends.`,
      );
    }
    const id = randomUUID();
    const log = options.store.create(id, {
      bufferEvents: options.bufferEvents,
      bufferBytes: options.bufferBytes,
      maxBytes: options.maxBytes,
      resumable,
      replayable,
      owner,
    });
    const controller = new AbortController();
    const abort = (reason: BrookError) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const { stop: stopTimers, waiting } = this.#watch(log, abort, resumable || replayable, options);
    const inputs = new RunInputs(waiting);
    const context: RunContext = { id, model, startedAt: performance.now(), signal: controller.signal, log, inputs };
    const ended = this.#run(context, request, kind, () => {
      stopTimers();
      this.#active.delete(id);
      if (owner !== undefined) this.#release(owner);
      options.store.ended(id, resumable || replayable);
      if (this.#active.size === 0) {
        for (const resolve of this.#idleWaiters) resolve();
        this.#idleWaiters.clear();
      }
    });
    this.#active.set(id, { owner, controller, ended, inputs });
    if (owner !== undefined) this.#perOwner.set(owner, ownerRuns + 1);
    return { id, model, log, visible: log.visible ?? Promise.resolve() };
  }

  async find(runId: string, caller?: string) {
    const log = await this.options.store.find(runId);
    return log !== undefined && visibleTo(log.owner, caller) ? log : undefined;
  }

  async cancel(runId: string, caller?: string): Promise<CancelOutcome> {
    const active = this.#active.get(runId);
    if (active !== undefined && !visibleTo(active.owner, caller)) return "not_found";
    if (this.#cancelHere(runId)) return "cancelled";
    if ((await this.find(runId, caller)) === undefined) return "not_found";
    // Another instance may be generating it.
    return this.options.channel?.requestCancel(runId) ?? "finished";
  }

  async answer(runId: string, inputId: string, value: unknown, caller?: string): Promise<AnswerOutcome> {
    const active = this.#active.get(runId);
    if (active !== undefined)
      return visibleTo(active.owner, caller) ? active.inputs.answer(inputId, value) : "not_found";
    const log = await this.find(runId, caller);
    if (log === undefined) return "not_found";
    if (log.terminal !== undefined) return "finished";
    // Another instance generates it (or did, until it stopped).
    return this.options.channel?.requestAnswer(runId, inputId, value) ?? "finished";
  }

  /** An answer another instance brought: a run no longer generating here has ended. */
  #answerHere(runId: string, inputId: string, value: unknown): AnswerOutcome {
    return this.#active.get(runId)?.inputs.answer(inputId, value) ?? "finished";
  }

  #release(owner: string): void {
    const left = (this.#perOwner.get(owner) ?? 1) - 1;
    if (left > 0) this.#perOwner.set(owner, left);
    else this.#perOwner.delete(owner);
  }

  /** Aborts the run if it generates here; false when it does not. */
  #cancelHere(runId: string): boolean {
    const active = this.#active.get(runId);
    if (active === undefined) return false;
    if (!active.controller.signal.aborted) active.controller.abort(new BrookError("cancelled"));
    return true;
  }

  async abortAll(reason: BrookError): Promise<void> {
    const running = [...this.#active.values()];
    for (const run of running) if (!run.controller.signal.aborted) run.controller.abort(reason);
    await Promise.all(running.map((run) => run.ended));
  }

  /**
   * Runs the executor (whatever happens, the log ends with exactly one terminal event), tells
   * the observers how it ended, then `release`s the run. One async frame for the run's whole
   * life, not a chain of promises and frames: every open stream holds it.
   */
  async #run(run: RunContext, request: RunRequest, kind: RunKind, release: () => void): Promise<void> {
    try {
      let outcome: RunOutcome;
      try {
        outcome = await this.options.execute(run, request);
        if (run.log.terminal === undefined) {
          this.options.onUnexpected(new Error(`the ${kind} run ended without a terminal event`), run.id);
          outcome = this.#broken(run);
        }
      } catch (error) {
        this.options.onUnexpected(error, run.id);
        outcome =
          run.log.terminal === undefined ? this.#broken(run) : { terminal: run.log.terminal, timing: timingSince(run) };
      }
      for (const observer of this.options.observers ?? []) {
        observer({ id: run.id, kind, model: run.model, request, ...outcome });
      }
    } finally {
      release();
    }
  }

  /** The executor broke its contract; no reader may hang on this run. */
  #broken(run: RunContext): RunOutcome {
    const terminal = errorEvent(new BrookError("internal"), emptyUsage);
    run.log.append([terminal]);
    return { terminal, timing: timingSince(run) };
  }

  /**
   * The run's deadline (MAX_RUN_MS), its byte budget and grace periods: a resumable run
   * (replayable ones too) waits `graceMs` for a reader whenever it has none (from the start: it
   * may never be claimed); any other run is aborted as soon as its reader leaves. A replayable
   * run that outgrows RUN_MAX_BYTES ends with `run_too_large`. A run waiting for a person is
   * not abandoned for want of readers: the answer may come from anywhere, and its own timeout
   * bounds the wait. Returns what stops the timers, and what tells them the run waits.
   */
  #watch(
    log: RunLogWriter,
    abort: (reason: BrookError) => void,
    resumable: boolean,
    options: RunControllerOptions,
  ): { stop: () => void; waiting: (waiting: boolean) => void } {
    const maxRunMs = options.maxRunMs ?? 0;
    const deadline =
      maxRunMs > 0
        ? setTimeout(
            () => abort(new BrookError("timeout", `The run took longer than ${maxRunMs} ms (MAX_RUN_MS).`)),
            maxRunMs,
          )
        : undefined;
    deadline?.unref();
    log.onOverflow(() =>
      abort(
        new BrookError(
          "run_too_large",
          `The answer outgrew the ${options.maxBytes} bytes a replayable run may keep (RUN_MAX_BYTES); it was ended there.`,
        ),
      ),
    );
    const abandon = () =>
      abort(new BrookError("cancelled", "The run was cancelled: its reader went away and did not come back."));
    let grace: NodeJS.Timeout | undefined;
    let readers = false;
    let asking = false;
    const startGrace = () => {
      if (log.terminal !== undefined) return;
      if (!resumable) return abandon();
      if (asking) return;
      if (grace !== undefined) return;
      grace = setTimeout(abandon, options.graceMs);
      grace.unref();
    };
    const stopGrace = () => {
      clearTimeout(grace);
      grace = undefined;
    };
    log.onPresence((present) => {
      readers = present;
      if (present) stopGrace();
      else startGrace();
    });
    if (resumable) startGrace();
    const waiting = (waits: boolean) => {
      asking = waits;
      if (waits) stopGrace();
      else if (!readers && resumable) startGrace();
    };
    return {
      stop: () => {
        clearTimeout(deadline);
        stopGrace();
      },
      waiting,
    };
  }
}

function timingSince(run: RunContext) {
  return { ttft_ms: null, duration_ms: Math.round((performance.now() - run.startedAt) * 100) / 100, tokens_per_s: 0 };
}
