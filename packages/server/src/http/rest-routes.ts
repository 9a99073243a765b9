import { ChatRequest, parseEventId } from "@brook/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { BrookServices } from "../brook-services.js";
import { foldRun } from "../engine/fold-run.js";
import type { Run } from "../engine/run.js";
import { InputError } from "../errors/input-error.js";
import { closeSignal, restSseFormat, sseHeaders, writeRunAsSse } from "./sse-writer.js";
import type { WebApp } from "./web-app.js";

/** The seed's REST contract: `/chat/stream`, `/chat`, `/`, `/health`, `/stats`, `/reset-stats`. */
export function registerRestRoutes(app: FastifyInstance, services: BrookServices, web?: WebApp): void {
  const { engine, stats, config } = services;

  // The seed's route: closing the connection aborts the run at once ("可中断").
  app.post("/chat/stream", (request, reply) => streamChat(request, reply, () => request.body, false));

  // EventSource can only GET; its automatic reconnects resume through Last-Event-ID.
  // No HEAD twin: a link checker must not start a billed model call.
  app.get("/chat/stream", { exposeHeadRoute: false }, (request, reply) =>
    streamChat(request, reply, () => queryToChatRequest(request.query), true),
  );

  app.post("/chat", async (request, reply) => {
    const chatRequest = InputError.parse(ChatRequest, request.body);
    const run = engine.start(chatRequest, { kind: "non_streaming", resumable: false });
    return reply.send(await foldRun(run, closeSignal(reply.raw)));
  });

  // Browsers get the chat UI (when built); every other client the seed's JSON status.
  app.get("/", async (request, reply) => {
    reply.header("vary", "accept");
    return web?.wantsPage(request) ? web.sendPage(reply) : reply.send(services.info());
  });
  // Draining answers 503 so that load balancers stop sending new work here.
  app.get("/health", async (_request, reply) => {
    const health = services.health();
    return reply.code(health.status === "ok" ? 200 : 503).send(health);
  });
  app.get("/tools", async (_request, reply) => reply.send(services.toolList()));
  app.get("/stats", async (_request, reply) => reply.send(await stats.snapshot()));
  app.post("/reset-stats", async (_request, reply) => {
    stats.reset();
    return reply.send(await stats.snapshot());
  });

  async function streamChat(
    request: FastifyRequest,
    reply: FastifyReply,
    body: () => unknown,
    resumable: boolean,
  ): Promise<void> {
    // Only EventSource reconnects (GET) resume; a POST always starts the run its body asks for.
    const resumed = resumable ? resumeTarget(request.headers["last-event-id"]) : undefined;
    if (resumed === "nothing-left") {
      // 204 tells an EventSource to stop reconnecting: the run already ended for this reader.
      await reply.code(204).send();
      return;
    }
    let run: Run;
    let fromSeq = 0;
    if (resumed === undefined) {
      run = engine.start(InputError.parse(ChatRequest, body()), { kind: "streaming", resumable });
    } else {
      ({ run, fromSeq } = resumed);
    }
    const reader = run.attach(fromSeq);
    reply.hijack();
    await writeRunAsSse(reply.raw, run, reader, restSseFormat, {
      pingMs: config.SSE_PING_MS,
      signal: closeSignal(reply.raw),
      headers: sseHeaders,
    });
  }

  function resumeTarget(header: string | string[] | undefined) {
    if (typeof header !== "string" || header === "") return undefined;
    const id = parseEventId(header);
    const run = id === undefined ? undefined : engine.get(id.runId);
    if (id === undefined || run === undefined) return "nothing-left";
    if (run.terminal !== undefined && id.seq + 1 >= run.head) return "nothing-left";
    return { run, fromSeq: id.seq + 1 };
  }
}

/** Query strings carry text only: numbers are converted so that the schema can judge them. */
function queryToChatRequest(query: unknown): unknown {
  if (typeof query !== "object" || query === null) return {};
  const fields = query as Record<string, unknown>;
  const number = (value: unknown) => (typeof value === "string" && value !== "" ? Number(value) : undefined);
  return {
    message: fields.message,
    system_prompt: fields.system_prompt,
    model: fields.model,
    temperature: number(fields.temperature),
    max_tokens: number(fields.max_tokens),
  };
}
