import type { OutgoingHttpHeaders } from "node:http";
import { type CancelResult, routes, UIChatId, type UIToolApproval } from "@brook/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { BrookServices } from "../../brook-services.js";
import { closeSignal, streamRun } from "../../encodings/stream-run.js";
import { uiMessageStreamEncoder } from "../../encodings/ui-message-stream-encoder.js";
import { BrookError } from "../../errors/brook-error.js";
import { errorHandler, uiErrorReply } from "../../errors/error-shapes.js";
import { InputError } from "../../errors/input-error.js";
import type { RunLog } from "../../storage/run-log.js";
import { decodeUIChatRequest } from "./decode-ui-chat-request.js";

/** What the AI SDK surface may touch: runs, the chats' runs, keys (to own runs), the ping interval. */
export type AiSdkServices = Pick<BrookServices, "control" | "chatRuns"> & {
  readonly apiKeys: Pick<BrookServices["apiKeys"], "ownerOf">;
  readonly config: Pick<BrookServices["config"], "SSE_PING_MS">;
};

export interface AiSdkPluginOptions {
  services: AiSdkServices;
}

/**
 * The AI SDK's surface: `useChat` (any `DefaultChatTransport`) pointed at Brook. `POST /api/chat`
 * answers with the UI message stream; its runs are replayable, so closing the connection does
 * not stop them at once (they wait RUN_GRACE_MS for a reader): `GET /api/chat/:id/stream` reads
 * the chat's run again from its first chunk (204 when there is none) and `POST /api/chat/:id/stop`
 * cancels it.
 */
export async function aiSdkPlugin(scope: FastifyInstance, { services }: AiSdkPluginOptions): Promise<void> {
  const { control, chatRuns, config, apiKeys } = services;

  // The AI SDK shows a refusal's body as the error's message: plain text, not JSON.
  scope.setErrorHandler(errorHandler(uiErrorReply));

  /** The caller's key, as its runs are owned (undefined when keys are off). */
  const ownerOf = (request: FastifyRequest) => apiKeys.ownerOf(request.headers.authorization);
  /** A chat belongs to the key that started it: another key cannot read or stop it. */
  const chatKey = (request: FastifyRequest, chatId: string) => {
    const owner = ownerOf(request);
    return owner === undefined ? chatId : `${owner}:${chatId}`;
  };
  const chatIdOf = (request: FastifyRequest) =>
    InputError.parseDeep(UIChatId, (request.params as { id?: unknown } | undefined)?.id);

  scope.post(routes.uiChat.path, async (request, reply) => {
    const decoded = decodeUIChatRequest(request.body);
    const { chatId } = decoded;
    const owner = ownerOf(request);
    if ("approvals" in decoded) {
      await continueRun(reply, chatKey(request, chatId), decoded.approvals, owner);
      return;
    }
    const run = control.start(
      { ...decoded.request, approvals: true },
      { kind: "streaming", resumable: true, replayable: true, owner },
    );
    const replaced = await chatRuns.set(chatKey(request, chatId), run.id);
    // The chat has moved on (a new message, a regenerated answer): its earlier run is not wanted.
    if (replaced !== undefined && replaced !== run.id) await control.cancel(replaced, owner);
    await stream(reply, run.log);
  });

  // No HEAD twin: nothing to learn from one.
  scope.get(routes.uiChatStream.path, { exposeHeadRoute: false }, async (request, reply) => {
    const runId = await chatRuns.get(chatKey(request, chatIdOf(request)));
    const log = runId === undefined ? undefined : await control.find(runId, ownerOf(request));
    // 204 tells the client that there is nothing to resume.
    if (log === undefined) return reply.code(204).send();
    await stream(reply, log);
  });

  scope.post(routes.uiChatStop.path, async (request, reply) => {
    const chatId = chatIdOf(request);
    const runId = await chatRuns.get(chatKey(request, chatId));
    if (runId === undefined) throw new BrookError("not_found", `Chat ${chatId} has no answer to stop.`);
    const outcome = await control.cancel(runId, ownerOf(request));
    return reply.send({ run_id: runId, cancelled: outcome === "cancelled" } satisfies CancelResult);
  });

  /**
   * The person answered the tool calls the chat's run waits on (`addToolApprovalResponse`): the
   * answers go to that run, wherever it generates, and the response goes on where the last one
   * ended (no second model call for what already happened).
   */
  async function continueRun(
    reply: FastifyReply,
    key: string,
    approvals: readonly UIToolApproval[],
    owner: string | undefined,
  ): Promise<void> {
    const runId = await chatRuns.get(key);
    const log = runId === undefined ? undefined : await control.find(runId, owner);
    if (runId === undefined || log === undefined) {
      throw new BrookError("not_found", "This chat has no answer waiting for approval (it ended or was forgotten).");
    }
    for (const { id, approved, reason } of approvals) {
      // An answer given already (the same one sent again, or one from elsewhere) stands: read on.
      await control.answer(runId, id, reason == null ? { approved } : { approved, reason }, owner);
    }
    await stream(reply, log, new Set(approvals.map((approval) => approval.id)));
  }

  /**
   * The run from its first event: a resumed client rebuilds the message from its `start`. After
   * approvals, only what follows the pause where they were asked (`answered`).
   */
  async function stream(reply: FastifyReply, log: RunLog, answered?: ReadonlySet<string>): Promise<void> {
    const reader = log.reader(0);
    reply.hijack();
    await streamRun(reply.raw, reader, uiMessageStreamEncoder(answered), {
      pingMs: config.SSE_PING_MS,
      signal: closeSignal(reply.raw),
      headers: reply.getHeaders() as OutgoingHttpHeaders,
    });
  }
}
