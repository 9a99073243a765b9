import {
  type Attributes,
  context,
  type Histogram,
  propagation,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { abortReason, BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart } from "../models/chat-model.js";
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

  async *stream(call: ModelCall): AsyncGenerator<readonly ModelPart[]> {
    const startedAt = performance.now();
    const common: Attributes = {
      [names.operationName]: operations.chat,
      [names.providerName]: this.server.provider,
      [names.system]: this.server.provider,
      [names.requestModel]: call.model,
      ...(this.server.address === undefined ? {} : { [names.serverAddress]: this.server.address }),
      ...(this.server.port === undefined ? {} : { [names.serverPort]: this.server.port }),
    };
    const span = this.tracer.startSpan(
      `${operations.chat} ${call.model}`,
      { kind: SpanKind.CLIENT, attributes: { ...common, ...requestAttributes(call) } },
      context.active(),
    );
    const headers: Record<string, string> = { ...call.headers };
    propagation.inject(trace.setSpan(context.active(), span), headers);

    let firstChunkAt: number | undefined;
    let finish: Extract<ModelPart, { type: "finish" }> | undefined;
    let usage: Extract<ModelPart, { type: "usage" }> | undefined;
    let errorType: string | undefined;
    let errorMessage: string | undefined;
    let completed = false;
    try {
      for await (const parts of this.inner.stream({ ...call, headers })) {
        for (const part of parts) {
          if (part.type === "finish") finish = part;
          else if (part.type === "usage") usage = part;
          else if (firstChunkAt === undefined && part.type !== "accepted") firstChunkAt = performance.now();
        }
        yield parts;
      }
      completed = true;
      if (finish === undefined) errorType = "upstream_incomplete";
    } catch (thrown) {
      const error =
        thrown instanceof BrookError
          ? thrown
          : call.signal.aborted
            ? abortReason(call.signal)
            : new BrookError("internal");
      errorType = error.code;
      errorMessage = error.message;
      throw thrown;
    } finally {
      // A consumer that stopped reading (the run was cancelled) ended the call: it did not finish.
      if (!completed && errorType === undefined)
        errorType = call.signal.aborted ? abortReason(call.signal).code : "cancelled";
      const ended: Attributes = { ...common };
      if (finish?.model !== undefined) ended[names.responseModel] = finish.model;
      if (errorType !== undefined) {
        ended[names.errorType] = errorType;
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage ?? errorType });
      }
      span.setAttributes(ended);
      if (finish !== undefined) span.setAttribute(names.responseFinishReasons, [finish.reason]);
      if (usage !== undefined) {
        span.setAttributes({
          [names.usageInputTokens]: usage.inputTokens,
          [names.usageOutputTokens]: usage.outputTokens,
          [names.usageCacheReadInputTokens]: usage.cachedInputTokens,
          [names.usageReasoningOutputTokens]: usage.reasoningTokens,
        });
        this.instruments.tokenUsage.record(usage.inputTokens, { ...ended, [names.tokenType]: "input" });
        this.instruments.tokenUsage.record(usage.outputTokens, { ...ended, [names.tokenType]: "output" });
      }
      if (firstChunkAt !== undefined) {
        const seconds = (firstChunkAt - startedAt) / 1000;
        span.setAttribute(names.responseTimeToFirstChunk, seconds);
        this.instruments.timeToFirstChunk.record(seconds, ended);
      }
      this.instruments.duration.record((performance.now() - startedAt) / 1000, ended);
      span.end();
    }
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
