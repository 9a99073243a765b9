import type { OutgoingHttpHeaders } from "node:http";
import { ApprovalAnswer, InputAnswer, type Readiness, routes } from "@brook/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import { resumePoint } from "../../control/resume-point.js";
import { ChatResultFold, foldRun } from "../../encodings/fold-run.js";
import { restSseEncoder } from "../../encodings/rest-sse-encoder.js";
import { closeSignal, streamRun } from "../../encodings/stream-run.js";
import { InputError } from "../../errors/input-error.js";
import type { RunLog } from "../../storage/run-log.js";
import { answerApproval } from "../answer-approval.js";
import { answerInput } from "../answer-input.js";
import type { WebApp } from "../web-app.js";
import { decodeChatBody, decodeChatQuery } from "./decode-chat-request.js";

/** What the REST surface may touch: runs, statistics, status, metrics, keys (to own runs), the ping interval. */
export type RestServices = Pick<BrookServices, "control" | "stats" | "metrics" | "health" | "info" | "toolList"> & {
  readonly apiKeys: Pick<BrookServices["apiKeys"], "ownerOf">;
  readonly config: Pick<BrookServices["config"], "SSE_PING_MS">;
};

export interface RestPluginOptions {
  services: RestServices;
  /** The web UI, whose page browsers get at `/` when it is built. */
  web?: WebApp | undefined;
}

/** The seed's REST contract: `/chat/stream`, `/chat`, `/`, `/health`, `/stats`, `/reset-stats`; and `/tools`, `/metrics`. */
export async function restPlugin(app: FastifyInstance, { services, web }: RestPluginOptions): Promise<void> {
  const { control, stats, config, apiKeys } = services;
  /** The caller's key, as the runs it starts are owned: only that key reads and cancels them. */
  const ownerOf = (request: FastifyRequest) => apiKeys.ownerOf(request.headers.authorization);

  // The seed's route: closing the connection aborts the run at once ("可中断").
  app.post(routes.chatStream.path, (request, reply) =>
    streamChat(request, reply, () => decodeChatBody(request.body), false),
  );

  // EventSource can only GET; its automatic reconnects resume through Last-Event-ID.
  // No HEAD twin: a link checker must not start a billed model call.
  app.get(routes.chatStream.path, { exposeHeadRoute: false }, (request, reply) =>
    streamChat(request, reply, () => decodeChatQuery(request.query), true),
  );

  app.post(routes.chat.path, async (request, reply) => {
    const run = control.start(decodeChatBody(request.body), {
      kind: "non_streaming",
      resumable: false,
      owner: ownerOf(request),
    });
    return reply.send(await foldRun(run.log, new ChatResultFold(run), closeSignal(reply.raw)));
  });

  // A person's answer to a tool call the run waits on, on whichever instance the run generates.
  app.post<{ Params: { run_id: string; approval_id: string } }>(routes.approval.path, async (request, reply) => {
    const answer = InputError.parse(ApprovalAnswer, request.body);
    const { run_id: runId, approval_id: approvalId } = request.params;
    return reply.send(await answerApproval(control, runId, approvalId, answer, ownerOf(request)));
  });

  // A person's answer to a question an MCP server asked during a tool call (`input_request`).
  app.post<{ Params: { run_id: string; input_id: string } }>(routes.input.path, async (request, reply) => {
    const answer = InputError.parse(InputAnswer, request.body);
    const { run_id: runId, input_id: inputId } = request.params;
    return reply.send(await answerInput(control, runId, inputId, answer, ownerOf(request)));
  });

  // Browsers get the chat UI (when built); every other client the seed's JSON status.
  app.get(routes.root.path, async (request, reply) => {
    reply.header("vary", "accept");
    return web?.wantsPage(request) ? web.sendPage(reply) : reply.send(services.info());
  });
  // Draining answers 503 so that load balancers stop sending new work here.
  app.get(routes.health.path, async (_request, reply) => {
    const health = services.health();
    return reply.code(health.status === "ok" ? 200 : 503).send(health);
  });
  // For balancers: only instances that can serve every request (not draining, the shared state reachable,
  // the model server not known to be unreachable).
  app.get(routes.ready.path, async (_request, reply) => {
    const health = services.health();
    return reply.code(health.ready ? 200 : 503).send({
      ready: health.ready,
      status: health.status,
      redis: health.redis,
      model_server: health.model_server?.status,
    } satisfies Readiness);
  });
  app.get(routes.tools.path, async (_request, reply) => reply.send(services.toolList()));
  app.get(routes.stats.path, async (_request, reply) => reply.send(await stats.snapshot()));
  app.post(routes.resetStats.path, async (_request, reply) => reply.send(await stats.reset()));
  app.get(routes.metrics.path, async (_request, reply) =>
    reply.type(services.metrics.contentType).send(await services.metrics.text()),
  );

  async function streamChat(
    request: FastifyRequest,
    reply: FastifyReply,
    decode: () => ReturnType<typeof decodeChatBody>,
    resumable: boolean,
  ): Promise<void> {
    // Only EventSource reconnects (GET) resume; a POST always starts the run its body asks for.
    const lastEventId = request.headers["last-event-id"];
    const resumed =
      resumable && typeof lastEventId === "string" && lastEventId !== ""
        ? await resumeTarget(lastEventId, ownerOf(request))
        : undefined;
    if (resumed === "nothing-left") {
      // 204 tells an EventSource to stop reconnecting: the run already ended for this reader.
      await reply.code(204).send();
      return;
    }
    const { log, fromSeq } = resumed ?? {
      // Its reader sees the run's id and its `tool_approval` events: it can be asked.
      log: control.start({ ...decode(), approvals: true }, { kind: "streaming", resumable, owner: ownerOf(request) })
        .log,
      fromSeq: 0,
    };
    const reader = log.reader(fromSeq);
    reply.hijack();
    // Handed back, not awaited: this frame need not stay suspended for the stream's whole life.
    return streamRun(reply.raw, reader, restSseEncoder(log.runId), {
      pingMs: config.SSE_PING_MS,
      signal: closeSignal(reply.raw),
      headers: reply.getHeaders() as OutgoingHttpHeaders,
    });
  }

  /** Another key's run is answered as an unknown one: 204, nothing to resume. */
  async function resumeTarget(
    lastEventId: string,
    owner: string | undefined,
  ): Promise<{ log: RunLog; fromSeq: number } | "nothing-left"> {
    const point = resumePoint(lastEventId);
    const log = point === undefined ? undefined : await control.find(point.runId, owner);
    if (point === undefined || log === undefined) return "nothing-left";
    if (log.terminal !== undefined && point.fromSeq >= log.head) return "nothing-left";
    return { log, fromSeq: point.fromSeq };
  }
}
