import {
  type Attributes,
  context,
  type Histogram,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { abortReason, BrookError } from "../errors/brook-error.js";
import {
  type ChatModel,
  canPush,
  type ModelCall,
  type ModelPart,
  type PartsSink,
  type PushableParts,
  pullParts,
} from "../models/chat-model.js";
import { attributes as names, operations } from "./gen-ai-conventions.js";

/** The GenAI client metrics a model call records. */
export interface ModelInstruments {
  duration: Histogram;
  tokenUsage: Histogram;
  timeToFirstChunk: Histogram;
}

export interface ModelServer {
  /** `gen_ai.provider.name`: `openai` for OpenAI-compatible servers. */
  provider: string;
  address?: string | undefined;
  port?: number | undefined;
}

/**
 * A model whose every call is a `chat {model}` client span (a child of the active context: the
 * run's span), whose trace context goes to the model server as a `traceparent` header, and whose
 * duration, tokens and time to first chunk are recorded once per call, never per part.
 */
export class TracedChatModel implements ChatModel {
  constructor(
    private readonly inner: ChatModel,
    private readonly tracer: Tracer,
    private readonly instruments: ModelInstruments,
    private readonly server: ModelServer,
  ) {}

  get mode() {
    return this.inner.mode;
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  stream(call: ModelCall): AsyncIterableIterator<readonly ModelPart[]> & PushableParts {
    return new TracedParts(this.inner, this.tracer, this.instruments, this.server, call);
  }
}

const ended: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** One traced call: its span, ended once with what the call came to. Pulled, or pushed when the inner stream can push. */
class TracedParts implements AsyncIterableIterator<readonly ModelPart[]>, PushableParts {
  readonly #instruments: ModelInstruments;
  readonly #call: ModelCall;
  readonly #iterator: AsyncIterator<readonly ModelPart[]>;
  readonly #span: Span;
  readonly #common: Attributes;
  readonly #startedAt = performance.now();
  #firstChunkAt: number | undefined;
  #finish: Extract<ModelPart, { type: "finish" }> | undefined;
  #usage: Extract<ModelPart, { type: "usage" }> | undefined;
  #over = false;

  constructor(inner: ChatModel, tracer: Tracer, instruments: ModelInstruments, server: ModelServer, call: ModelCall) {
    this.#instruments = instruments;
    this.#call = call;
    this.#common = {
      [names.operationName]: operations.chat,
      [names.providerName]: server.provider,
      [names.system]: server.provider,
      [names.requestModel]: call.model,
      ...(server.address === undefined ? {} : { [names.serverAddress]: server.address }),
      ...(server.port === undefined ? {} : { [names.serverPort]: server.port }),
    };
    this.#span = tracer.startSpan(
      `${operations.chat} ${call.model}`,
      { kind: SpanKind.CLIENT, attributes: { ...this.#common, ...requestAttributes(call) } },
      context.active(),
    );
    const headers: Record<string, string> = { ...call.headers };
    propagation.inject(trace.setSpan(context.active(), this.#span), headers);
    this.#iterator = inner.stream({ ...call, headers })[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<readonly ModelPart[]>> {
    if (this.#over) return Promise.resolve(ended);
    return this.#iterator.next().then(
      (next) => {
        if (next.done === true) this.#completed();
        else this.#observe(next.value);
        return next;
      },
      (thrown: unknown) => {
        this.#failed(thrown);
        throw thrown;
      },
    );
  }

  async return(): Promise<IteratorResult<readonly ModelPart[]>> {
    this.#stopped();
    await this.#iterator.return?.();
    return ended;
  }

  async pushParts(sink: PartsSink): Promise<void> {
    const iterator = this.#iterator;
    if (this.#over) return;
    if (!canPush(iterator)) return pullParts(this, sink);
    let consumerFailed = false;
    try {
      await iterator.pushParts((parts) => {
        this.#observe(parts);
        try {
          const wait = sink(parts);
          return wait?.catch((error: unknown) => {
            consumerFailed = true;
            throw error;
          });
        } catch (error) {
          consumerFailed = true;
          throw error;
        }
      });
    } catch (thrown) {
      // A consumer that stopped reading ended the call, as when it stops pulling.
      if (consumerFailed) this.#stopped();
      else this.#failed(thrown);
      throw thrown;
    }
    this.#completed();
  }

  #observe(parts: readonly ModelPart[]): void {
    for (const part of parts) {
      if (part.type === "finish") this.#finish = part;
      else if (part.type === "usage") this.#usage = part;
      else if (this.#firstChunkAt === undefined && part.type !== "accepted") this.#firstChunkAt = performance.now();
    }
  }

  #completed(): void {
    this.#end(this.#finish === undefined ? "upstream_incomplete" : undefined, undefined);
  }

  #failed(thrown: unknown): void {
    const { signal } = this.#call;
    const error =
      thrown instanceof BrookError ? thrown : signal.aborted ? abortReason(signal) : new BrookError("internal");
    this.#end(error.code, error.message);
  }

  /** The consumer stopped reading (the run was cancelled): the call did not finish. */
  #stopped(): void {
    const { signal } = this.#call;
    this.#end(signal.aborted ? abortReason(signal).code : "cancelled", undefined);
  }

  /** Records the call, once, and ends its span. */
  #end(errorType: string | undefined, errorMessage: string | undefined): void {
    if (this.#over) return;
    this.#over = true;
    const span = this.#span;
    const finish = this.#finish;
    const usage = this.#usage;
    const recorded: Attributes = { ...this.#common };
    if (finish?.model !== undefined) recorded[names.responseModel] = finish.model;
    if (errorType !== undefined) {
      recorded[names.errorType] = errorType;
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage ?? errorType });
    }
    span.setAttributes(recorded);
    if (finish !== undefined) span.setAttribute(names.responseFinishReasons, [finish.reason]);
    if (usage !== undefined) {
      span.setAttributes({
        [names.usageInputTokens]: usage.inputTokens,
        [names.usageOutputTokens]: usage.outputTokens,
        [names.usageCacheReadInputTokens]: usage.cachedInputTokens,
        [names.usageReasoningOutputTokens]: usage.reasoningTokens,
      });
      this.#instruments.tokenUsage.record(usage.inputTokens, { ...recorded, [names.tokenType]: "input" });
      this.#instruments.tokenUsage.record(usage.outputTokens, { ...recorded, [names.tokenType]: "output" });
    }
    if (this.#firstChunkAt !== undefined) {
      const seconds = (this.#firstChunkAt - this.#startedAt) / 1000;
      span.setAttribute(names.responseTimeToFirstChunk, seconds);
      this.#instruments.timeToFirstChunk.record(seconds, recorded);
    }
    this.#instruments.duration.record((performance.now() - this.#startedAt) / 1000, recorded);
    span.end();
  }
}

function requestAttributes(call: ModelCall): Attributes {
  const requested: Attributes = { [names.requestStream]: true };
  if (call.temperature !== undefined) requested[names.requestTemperature] = call.temperature;
  if (call.maxTokens !== undefined) requested[names.requestMaxTokens] = call.maxTokens;
  if (call.topP !== undefined) requested[names.requestTopP] = call.topP;
  if (call.seed !== undefined) requested[names.requestSeed] = call.seed;
  return requested;
}
