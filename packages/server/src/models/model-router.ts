import type { ErrorCode } from "@brook/shared";
import OpenAI from "openai";
import { abortReason, BrookError } from "../errors/brook-error.js";
import {
  type ChatModel,
  canPush,
  type ModelCall,
  type ModelPart,
  type PartsSink,
  type PushableParts,
} from "./chat-model.js";
import type { CatalogModel, Deployment, ModelCatalog } from "./model-catalog.js";
import { retryAfterMs } from "./retry.js";

/** Failures before the first token that another model server may not share: Brook moves on. */
const movesOn = new Set<ErrorCode>([
  "upstream_unreachable",
  "timeout",
  "upstream_rate_limited",
  "upstream_quota",
  "upstream_error",
  "upstream_incomplete",
]);

/** The longest Retry-After Brook honours as a cooldown. */
const maxCooldownMs = 10 * 60_000;
const detailLimit = 160;

/** One attempt at a deployment, for the metrics. */
export interface AttemptRecord {
  /** The model asked for. */
  asked: string;
  /** The model and deployment tried. */
  model: string;
  deployment: string;
  /** `skipped`: at its max_concurrent, never called. */
  outcome: "answered" | "failed" | "skipped";
  code?: ErrorCode | undefined;
}

/** What Brook knows of one deployment, on this instance. */
export interface DeploymentState {
  readonly deployment: Deployment;
  /** Calls under way. */
  inFlight: number;
  /** Date.now() until which it is passed over while others can answer; 0: not cooling down. */
  coolingUntil: number;
  attempts: number;
  failures: number;
  lastError: { code: ErrorCode; message: string; at: number } | undefined;
  /** Whether the background check or the last call found it unreachable. */
  unreachable(): boolean;
}

export interface ModelRouterOptions {
  catalog: ModelCatalog;
  /** The adapter of each deployment, by its id. */
  adapters: ReadonlyMap<string, ChatModel>;
  /** FIRST_TOKEN_TIMEOUT_MS: the whole wait for a first token, every attempt included (0: none). */
  firstTokenMs: number;
  /** FALLBACK_TIMEOUT_MS: one attempt's wait for its first token when another could still answer (0: no such limit). */
  fallbackMs: number;
  /** MODEL_COOLDOWN_MS: how long a failed deployment is passed over when it sent no Retry-After. */
  cooldownMs: number;
  /** Whether a deployment's background check finds it unreachable. */
  unreachable?: (deployment: Deployment) => boolean;
  /** Told of each attempt (metrics, the background check's state). */
  onAttempt?: (record: AttemptRecord, error: BrookError | undefined) => void;
}

/**
 * The models of a `MODELS` file (or the OPENAI_* server) behind one ChatModel. Per request, never
 * per event: it picks the deployments of the model asked for (least busy first, then in turn),
 * then those of its fallbacks; a failure before the first token moves on to the next and cools
 * the failed one down; after the first token the stream is the deployment's own.
 */
export class ModelRouter implements ChatModel {
  readonly mode = "openai" as const;
  readonly #models = new Map<string, CatalogModel>();
  readonly #states = new Map<string, DeploymentState>();
  /** Per model: requests routed so far, which rotates its equally busy deployments. */
  readonly #turns = new Map<string, number>();

  constructor(private readonly options: ModelRouterOptions) {
    for (const model of options.catalog.models) {
      this.#models.set(model.name, model);
      for (const deployment of model.deployments) {
        const unreachable = options.unreachable ?? (() => false);
        this.#states.set(deployment.id, {
          deployment,
          inFlight: 0,
          coolingUntil: 0,
          attempts: 0,
          failures: 0,
          lastError: undefined,
          unreachable: () => unreachable(deployment),
        });
      }
    }
  }

  /** Every deployment's state, in the catalog's order. */
  states(): readonly DeploymentState[] {
    return [...this.#states.values()];
  }

  /** A deployment of `name` could take a call now: not cooling down, not unreachable, not full. */
  usable(name: string, now = Date.now()): boolean {
    const model = this.#models.get(name);
    return model?.deployments.some((deployment) => isUsable(this.#state(deployment), now)) ?? false;
  }

  stream(call: ModelCall): AsyncIterableIterator<readonly ModelPart[]> & PushableParts {
    return new RoutedStream(this, call);
  }

  async close(): Promise<void> {
    await Promise.all([...this.options.adapters.values()].map((adapter) => adapter.close?.()));
  }

  /**
   * Where a request for `asked` goes, in order: its own deployments (least busy, then in turn),
   * then each fallback's; those cooling down or unreachable last, as a last resort. The name and
   * the upstream model of an unknown name in an open catalog: the first model's deployments.
   */
  plan(asked: string, now: number): { candidates: Candidate[]; skipped: Candidate[] } {
    const { catalog } = this.options;
    const own = this.#models.get(asked) ?? (catalog.open ? catalog.models[0] : undefined);
    if (own === undefined) throw new BrookError("bad_request", `Unknown model "${asked}".`);
    const renamed = own.name === asked ? undefined : asked;
    const ready: Candidate[] = [];
    const down: Candidate[] = [];
    const skipped: Candidate[] = [];
    const names = [own.name, ...own.fallbacks];
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      const model = this.#models.get(name);
      if (model === undefined) continue;
      const turn = this.#turns.get(name) ?? 0;
      this.#turns.set(name, turn + 1);
      const count = model.deployments.length;
      // In turn, then the least busy first (a stable sort keeps the turn among equals).
      const rotated = model.deployments.map((_, index) => model.deployments[(index + turn) % count] as Deployment);
      const states = rotated.map((deployment) => this.#state(deployment)).sort((a, b) => a.inFlight - b.inFlight);
      for (const state of states) {
        // An open catalog's unknown name keeps its name: the server is asked for it, and it is priced as it.
        const asName = name === own.name && renamed !== undefined ? renamed : undefined;
        const candidate: Candidate = {
          state,
          name: asName ?? name,
          upstreamModel: asName ?? state.deployment.upstreamModel,
        };
        if (isFull(state)) skipped.push(candidate);
        else if (state.coolingUntil > now || state.unreachable()) down.push(candidate);
        else ready.push(candidate);
      }
    }
    down.sort((a, b) => a.state.coolingUntil - b.state.coolingUntil);
    return { candidates: [...ready, ...down], skipped };
  }

  /** A failed attempt: counted, and cooled down for what the server asked, else MODEL_COOLDOWN_MS. */
  failed(state: DeploymentState, error: BrookError, cooldown: boolean): void {
    state.failures += 1;
    state.lastError = { code: error.code, message: clip(error.message), at: Date.now() };
    if (!cooldown) return;
    const asked = error.cause instanceof OpenAI.APIError ? retryAfterMs(error.cause.headers) : undefined;
    const wait = Math.min(asked ?? this.options.cooldownMs, maxCooldownMs);
    if (wait > 0) state.coolingUntil = Date.now() + wait;
  }

  answered(state: DeploymentState): void {
    state.coolingUntil = 0;
  }

  get settings(): Readonly<ModelRouterOptions> {
    return this.options;
  }

  #state(deployment: Deployment): DeploymentState {
    return this.#states.get(deployment.id) as DeploymentState;
  }
}

interface Candidate {
  state: DeploymentState;
  /** The model it serves as. */
  name: string;
  upstreamModel: string;
}

function isFull(state: DeploymentState): boolean {
  const cap = state.deployment.maxConcurrent;
  return cap !== undefined && state.inFlight >= cap;
}

/** It could take a call now: not full, not cooling down, not known to be unreachable. */
export function isUsable(state: DeploymentState, now: number): boolean {
  return !isFull(state) && state.coolingUntil <= now && !state.unreachable();
}

function clip(text: string): string {
  return text.length > detailLimit ? `${text.slice(0, detailLimit)}…` : text;
}

const accepted: ModelPart = { type: "accepted" };

/** The error routing ends with, and whether the server had taken the last call tried. */
class RoutingFailure extends Error {
  constructor(
    readonly error: BrookError,
    readonly accepted: boolean,
  ) {
    super(error.message);
  }
}

/** What one attempt ended with before its first token. */
interface Tried {
  candidate: Candidate;
  error: BrookError;
}

/**
 * One request's stream: attempts until a deployment sends its first output, then that
 * deployment's own batches, passed through as they come (one `then` per batch, to free its slot).
 */
class RoutedStream implements AsyncIterableIterator<readonly ModelPart[]>, PushableParts {
  #inner: AsyncIterator<readonly ModelPart[]> | undefined;
  #attempt: AbortController | undefined;
  #state: DeploymentState | undefined;
  #ended = false;
  /** The error to throw at the next read, after the acceptance of the call that failed went out. */
  #pending: BrookError | undefined;

  constructor(
    private readonly router: ModelRouter,
    private readonly call: ModelCall,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<readonly ModelPart[]>> {
    const inner = this.#inner;
    if (inner === undefined) {
      const pending = this.#pending;
      if (pending !== undefined) return Promise.reject(pending);
      return this.#open().catch(this.#acceptedFirst);
    }
    return inner.next().then(this.#settle, this.#fail);
  }

  async return(): Promise<IteratorResult<readonly ModelPart[]>> {
    const inner = this.#inner;
    this.#end(true);
    await inner?.return?.();
    return { done: true, value: undefined };
  }

  /**
   * Routing is pulled (the first output chooses the deployment); the chosen deployment's batches
   * are then pushed straight through when its stream can push.
   */
  async pushParts(sink: PartsSink): Promise<void> {
    let inner = this.#inner;
    while (inner === undefined || !canPush(inner)) {
      const next = await this.next();
      if (next.done === true) return;
      try {
        const wait = sink(next.value);
        if (wait !== undefined) await wait;
      } catch (error) {
        await this.return().catch(() => {});
        throw error;
      }
      inner = this.#inner;
      if (this.#ended) return;
    }
    try {
      await inner.pushParts(sink);
    } catch (error) {
      this.#end(true);
      throw error;
    }
    this.#end(false);
  }

  readonly #settle = (result: IteratorResult<readonly ModelPart[]>) => {
    if (result.done === true) this.#end(false);
    return result;
  };

  readonly #fail = (error: unknown): never => {
    this.#end(true);
    throw error;
  };

  /** Frees the deployment's slot and the attempt's link to the run's signal, once; `close`: the adapter's call too. */
  #end(close: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#state !== undefined) this.#state.inFlight -= 1;
    if (close) this.#attempt?.abort(this.call.signal.reason ?? new BrookError("cancelled"));
    this.call.signal.removeEventListener("abort", this.#forward);
  }

  readonly #forward = () => this.#attempt?.abort(this.call.signal.reason);

  /** The server took the call that failed: the prompt may be billed, so its acceptance goes out before the error. */
  readonly #acceptedFirst = (error: unknown): IteratorResult<readonly ModelPart[]> => {
    if (!(error instanceof RoutingFailure)) throw error;
    if (!error.accepted) throw error.error;
    this.#pending = error.error;
    return { done: false, value: [accepted] };
  };

  /** Tries the candidates in turn until one sends output: that batch comes first, with the route. */
  async #open(): Promise<IteratorResult<readonly ModelPart[]>> {
    const { router, call } = this;
    const { firstTokenMs, fallbackMs, onAttempt } = router.settings;
    // The wait runs on the monotonic clock; cooldowns are wall-clock times (shown in /health).
    const startedAt = performance.now();
    const { candidates, skipped } = router.plan(call.model, Date.now());
    for (const { state, name } of skipped) {
      onAttempt?.({ asked: call.model, model: name, deployment: state.deployment.id, outcome: "skipped" }, undefined);
    }
    if (call.signal.aborted) throw abortReason(call.signal);
    call.signal.addEventListener("abort", this.#forward);
    const tried: Tried[] = [];
    let lastAccepted = false;
    try {
      for (let index = 0; index < candidates.length; index += 1) {
        const candidate = candidates[index] as Candidate;
        const last = index === candidates.length - 1;
        const remaining = firstTokenMs > 0 ? firstTokenMs - (performance.now() - startedAt) : Number.POSITIVE_INFINITY;
        if (remaining <= 0) break;
        const limited = !last && fallbackMs > 0 && !candidate.state.deployment.reasoning && fallbackMs < remaining;
        const waitMs = limited ? fallbackMs : remaining;
        const expiry = limited
          ? `The model sent no answer within ${fallbackMs} ms (FALLBACK_TIMEOUT_MS).`
          : `The model sent no answer within ${firstTokenMs} ms (FIRST_TOKEN_TIMEOUT_MS).`;
        const outcome = await this.#try(candidate, waitMs, expiry);
        if (outcome.first !== undefined) {
          onAttempt?.(
            {
              asked: call.model,
              model: candidate.name,
              deployment: candidate.state.deployment.id,
              outcome: "answered",
            },
            undefined,
          );
          const routed: ModelPart = {
            type: "routed",
            model: candidate.name,
            deployment: candidate.state.deployment.id,
            attempts: tried.length + 1,
          };
          return { done: false, value: [...outcome.accepted, routed, ...outcome.first] };
        }
        const error = outcome.error;
        if (call.signal.aborted) throw abortReason(call.signal);
        const moves = movesOn.has(error.code);
        // A cooldown steers requests elsewhere; with nowhere else to go it would only refuse them.
        router.failed(candidate.state, error, moves && candidates.length + skipped.length > 1);
        onAttempt?.(
          {
            asked: call.model,
            model: candidate.name,
            deployment: candidate.state.deployment.id,
            outcome: "failed",
            code: error.code,
          },
          error,
        );
        tried.push({ candidate, error });
        lastAccepted = outcome.accepted;
        if (!moves) throw new RoutingFailure(error, lastAccepted);
      }
    } catch (error) {
      this.call.signal.removeEventListener("abort", this.#forward);
      throw error;
    }
    this.call.signal.removeEventListener("abort", this.#forward);
    throw new RoutingFailure(unavailable(call.model, tried, skipped, firstTokenMs), lastAccepted);
  }

  /** One attempt: its first output (and the acceptance before it), or the error it ended with. */
  async #try(
    candidate: Candidate,
    waitMs: number,
    expiry: string,
  ): Promise<
    | { first: readonly ModelPart[]; accepted: readonly ModelPart[]; error?: undefined }
    | { first?: undefined; error: BrookError; accepted: boolean }
  > {
    const { state } = candidate;
    const attempt = new AbortController();
    this.#attempt = attempt;
    state.inFlight += 1;
    state.attempts += 1;
    const timer =
      waitMs === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => attempt.abort(new BrookError("timeout", expiry)), waitMs);
    const adapter = this.router.settings.adapters.get(state.deployment.id) as ChatModel;
    const iterator = adapter
      .stream({ ...this.call, model: candidate.upstreamModel, signal: attempt.signal })
      [Symbol.asyncIterator]();
    const accepted: ModelPart[] = [];
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) {
          throw new BrookError("upstream_incomplete", "The model server ended the stream before any answer.");
        }
        if (next.value.some((part) => part.type !== "accepted")) {
          clearTimeout(timer);
          this.#inner = iterator;
          this.#state = state;
          this.router.answered(state);
          return { first: next.value, accepted };
        }
        accepted.push(...next.value);
      }
    } catch (thrown) {
      clearTimeout(timer);
      state.inFlight -= 1;
      const reason: unknown = attempt.signal.reason;
      attempt.abort(reason ?? new BrookError("cancelled"));
      void iterator.return?.()?.catch(() => {});
      // Our deadline, whatever the adapter made of the abort.
      const taken = accepted.length > 0;
      if (!this.call.signal.aborted && reason instanceof BrookError && reason.code === "timeout") {
        return { error: reason, accepted: taken };
      }
      if (thrown instanceof BrookError) return { error: thrown, accepted: taken };
      if (this.call.signal.aborted) throw abortReason(this.call.signal);
      throw thrown;
    }
  }
}

/**
 * No deployment answered. A request with one place to go ends with that place's own error, as a
 * single model server always did; one that tried several ends `upstream_unavailable`, naming each.
 */
function unavailable(
  asked: string,
  tried: readonly Tried[],
  skipped: readonly Candidate[],
  firstTokenMs: number,
): BrookError {
  const only = tried[0];
  if (tried.length === 1 && skipped.length === 0 && only !== undefined) return only.error;
  const parts = [
    ...tried.map(({ candidate, error }) => `${candidate.state.deployment.id}: ${error.code} (${clip(error.message)})`),
    ...skipped.map(({ state }) => `${state.deployment.id}: at its max_concurrent (${state.deployment.maxConcurrent})`),
  ];
  if (parts.length === 0) parts.push(`none tried within ${firstTokenMs} ms (FIRST_TOKEN_TIMEOUT_MS)`);
  return new BrookError("upstream_unavailable", `No model server could answer "${asked}": ${parts.join("; ")}.`);
}
