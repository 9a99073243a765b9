import type { OutgoingHttpHeaders } from "node:http";
import { type OpenAIModel, type OpenAIModelList, routes } from "@brook/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import type { StartedRun } from "../../control/run-control.js";
import { foldRun } from "../../encodings/fold-run.js";
import {
  type OpenAIAnswerOptions,
  OpenAICompletionFold,
  openAIChunkEncoder,
} from "../../encodings/openai-chat-encoder.js";
import {
  OpenAIResponseFold,
  type OpenAIResponseOptions,
  openAIResponseEncoder,
} from "../../encodings/openai-responses-encoder.js";
import type { StreamEncoder } from "../../encodings/stream-encoder.js";
import { closeSignal, streamRun } from "../../encodings/stream-run.js";
import { BrookError } from "../../errors/brook-error.js";
import { errorHandler, fromErrorEvent, openAIErrorReply, sendError } from "../../errors/error-shapes.js";
import { routeMiss } from "../route-miss.js";
import { decodeOpenAIRequest } from "./decode-openai-request.js";
import { decodeResponsesRequest } from "./decode-responses-request.js";
import { type HeldEvents, holdUntilShown, prepend } from "./hold-head.js";

/** What the OpenAI surface may touch: starting runs, the models it lists, keys (to own runs), the ping interval. */
export type OpenAIServices = Pick<BrookServices, "control" | "models" | "startedAtS"> & {
  readonly apiKeys: Pick<BrookServices["apiKeys"], "ownerOf">;
  readonly config: Pick<BrookServices["config"], "SSE_PING_MS">;
};

export interface OpenAIPluginOptions {
  services: OpenAIServices;
}

/** This plugin is registered under `/v1`; the route list has whole paths. */
const base = "/v1";
const relative = (path: string) => path.slice(base.length);

/**
 * OpenAI's chat-completions and Responses APIs: any OpenAI client pointed at `…/v1` gets Brook's model, with
 * its MCP tools run inside one answer, and Brook's keys, limits and accounting. Runs belong to
 * their request: a closed connection aborts the model call. Every refusal is in OpenAI's shape.
 */
export async function openAIPlugin(scope: FastifyInstance, { services }: OpenAIPluginOptions): Promise<void> {
  const { control, config, apiKeys } = services;

  scope.setErrorHandler(errorHandler(openAIErrorReply));
  scope.setNotFoundHandler((request, reply) => {
    const { error, headers } = routeMiss(request.method, request.url);
    return sendError(reply, error, openAIErrorReply, headers);
  });

  scope.post(relative(routes.openaiChat.path), async (request, reply) => {
    const decoded = decodeOpenAIRequest(request.body);
    const signal = closeSignal(reply.raw);
    // Owned by the caller's key: it counts against that key's cap (MAX_RUNS_PER_KEY).
    const owner = apiKeys.ownerOf(request.headers.authorization);
    if (!decoded.stream) {
      const run = control.start(decoded.request, { kind: "non_streaming", resumable: false, owner });
      const options = answerOptions(run, decoded.callerTools);
      reply.header("x-request-id", options.id);
      return reply.send(await foldRun(run.log, new OpenAICompletionFold(options), signal));
    }
    const run = control.start(decoded.request, { kind: "streaming", resumable: false, owner });
    const options = answerOptions(run, decoded.callerTools);
    const stream = { callerTools: decoded.callerTools, signal, requestId: options.id, pingMs: config.SSE_PING_MS };
    await streamAnswer(reply, run, stream, () =>
      openAIChunkEncoder({ ...options, includeUsage: decoded.includeUsage }),
    );
  });

  scope.post(relative(routes.openaiResponses.path), async (request, reply) => {
    const decoded = decodeResponsesRequest(request.body);
    const signal = closeSignal(reply.raw);
    const owner = apiKeys.ownerOf(request.headers.authorization);
    const kind = decoded.stream ? "streaming" : "non_streaming";
    const run = control.start(decoded.request, { kind, resumable: false, owner });
    const options: OpenAIResponseOptions = {
      id: `resp_${run.id.replaceAll("-", "")}`,
      model: run.model,
      createdAt: Math.floor(Date.now() / 1000),
      callerTools: decoded.callerTools,
      settings: decoded.settings,
      reasoningAsSummary: decoded.reasoningAsSummary,
    };
    if (!decoded.stream) {
      reply.header("x-request-id", options.id);
      return reply.send(await foldRun(run.log, new OpenAIResponseFold(options), signal));
    }
    const stream = { callerTools: decoded.callerTools, signal, requestId: options.id, pingMs: config.SSE_PING_MS };
    await streamAnswer(reply, run, stream, () => openAIResponseEncoder(options));
  });

  const model = (id: string): OpenAIModel => ({ id, object: "model", created: services.startedAtS, owned_by: "brook" });

  scope.get(relative(routes.openaiModels.path), async (_request, reply) =>
    reply.send({ object: "list", data: services.models.map(model) } satisfies OpenAIModelList),
  );
  scope.get(relative(routes.openaiModel.path), async (request, reply) => {
    const id = (request.params as { model: string }).model;
    // Only the names Brook lists; a request may still name any model, for the model server to judge.
    if (!services.models.includes(id)) throw new BrookError("not_found", `Brook lists no model "${id}".`);
    return reply.send(model(id));
  });
}

function answerOptions(run: StartedRun, callerTools: ReadonlySet<string>): OpenAIAnswerOptions {
  return { id: `chatcmpl-${run.id}`, model: run.model, created: Math.floor(Date.now() / 1000), callerTools };
}

interface AnswerStream {
  /** The caller's own tools: a call of one is something shown. */
  callerTools: ReadonlySet<string>;
  /** The caller's connection. */
  signal: AbortSignal;
  requestId: string;
  pingMs: number;
}

/**
 * Streams a run in one of OpenAI's formats, once the caller would see something: a model call
 * refused before anything was shown (rate limit, bad key…) answers with its own status instead,
 * as OpenAI's does (the SDKs retry by it).
 */
async function streamAnswer(
  reply: FastifyReply,
  run: StartedRun,
  { callerTools, signal, requestId, pingMs }: AnswerStream,
  encoder: () => StreamEncoder,
): Promise<void> {
  const reader = run.log.reader(0);
  let held: HeldEvents;
  try {
    held = await holdUntilShown(reader, callerTools, signal, pingMs);
  } catch (error) {
    reader.close();
    throw error;
  }
  const refusal = held.events.at(-1);
  if (refusal?.type === "error" && !held.shown) {
    reader.close();
    throw fromErrorEvent(refusal);
  }
  reply.hijack();
  await streamRun(reply.raw, prepend(held.events, reader), encoder(), {
    pingMs,
    signal,
    headers: { ...(reply.getHeaders() as OutgoingHttpHeaders), "x-request-id": requestId },
  });
}
