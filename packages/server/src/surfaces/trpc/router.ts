import {
  AnswerInputInput,
  AnswerInputResult,
  ApproveInput,
  ApproveResult,
  CancelResult,
  type ChatEvent,
  ChatRequest,
  ChatStreamInput,
  RunEventsInput,
  RunRef,
  StartResult,
  ToolList,
} from "@brook/shared";
import type { TrackedEnvelope } from "@trpc/server";
import { resumePoint } from "../../control/resume-point.js";
import { ChatResultFold, foldRun } from "../../encodings/fold-run.js";
import { BrookError } from "../../errors/brook-error.js";
import type { RunLog } from "../../storage/run-log.js";
import { answerApproval } from "../answer-approval.js";
import { answerInput } from "../answer-input.js";
import { RunSubscription } from "./run-subscription.js";
import { adminProcedure, apiProcedure, publicProcedure, type TrpcServices, t } from "./trpc.js";

type RunEvents = AsyncIterable<TrackedEnvelope<ChatEvent>>;

const noSuchRun = (runId: string) =>
  new BrookError("not_found", `No run ${runId} (finished runs are kept for a while only).`);

/** The run, if the caller's key may see it: another key's run is answered as unknown. */
async function findRun(services: TrpcServices, runId: string, owner: string | undefined): Promise<RunLog> {
  const log = await services.control.find(runId, owner);
  if (log === undefined) throw noSuchRun(runId);
  return log;
}

/** Where a reader resumes after `lastEventId`; a malformed one, or one of another run, is refused. */
function resumeAfter(lastEventId: string | null | undefined, runId?: string) {
  if (lastEventId == null) return undefined;
  const point = resumePoint(lastEventId, runId);
  if (point === undefined)
    throw new BrookError("bad_request", `lastEventId "${lastEventId}" is not an event of this run.`);
  return point;
}

export const appRouter = t.router({
  health: publicProcedure.query(({ ctx }) => ctx.services.health()),

  tools: t.router({
    /** The MCP tools the model can use, by the names it calls them. */
    list: apiProcedure.output(ToolList).query(({ ctx }) => ctx.services.toolList()),
  }),

  stats: t.router({
    get: apiProcedure.query(({ ctx }) => ctx.services.stats.snapshot()),
    reset: adminProcedure.mutation(({ ctx }) => ctx.services.stats.reset()),
  }),

  chat: t.router({
    /** The whole answer at once. A mutation: it bills. */
    complete: apiProcedure.input(ChatRequest).mutation(({ ctx, input, signal }) => {
      const run = ctx.services.control.start(input, { kind: "non_streaming", resumable: false, owner: ctx.owner });
      return foldRun(run.log, new ChatResultFold(run), signal ?? new AbortController().signal);
    }),

    /** Starts a run and streams it; for short inputs (the input travels in the URL). */
    stream: apiProcedure.input(ChatStreamInput).subscription(async ({ ctx, input, signal }): Promise<RunEvents> => {
      const resume = resumeAfter(input.lastEventId);
      const log =
        resume === undefined
          ? ctx.services.control.start(
              { ...input, approvals: true },
              { kind: "streaming", resumable: true, owner: ctx.owner },
            ).log
          : await findRun(ctx.services, resume.runId, ctx.owner);
      return new RunSubscription(log, resume?.fromSeq ?? 0, signal);
    }),

    /** Starts a run of any size (the input travels in the POST body); read it with `chat.events`. */
    start: apiProcedure
      .input(ChatRequest)
      .output(StartResult)
      .mutation(async ({ ctx, input }) => {
        const run = ctx.services.control.start(
          { ...input, approvals: true },
          { kind: "streaming", resumable: true, owner: ctx.owner },
        );
        // Behind a load balancer, `chat.events` may reach another instance: it must find the run there.
        await run.visible;
        return { run_id: run.id };
      }),

    /** A run's events from the start, or after `lastEventId` when resuming. */
    events: apiProcedure.input(RunEventsInput).subscription(async ({ ctx, input, signal }): Promise<RunEvents> => {
      const resume = resumeAfter(input.lastEventId, input.run_id);
      const log = await findRun(ctx.services, input.run_id, ctx.owner);
      return new RunSubscription(log, resume?.fromSeq ?? 0, signal);
    }),

    /** Aborts a run: its stream ends with an `error` event of code `cancelled`. */
    cancel: apiProcedure
      .input(RunRef)
      .output(CancelResult)
      .mutation(async ({ ctx, input }) => {
        const outcome = await ctx.services.control.cancel(input.run_id, ctx.owner);
        if (outcome === "not_found") throw noSuchRun(input.run_id);
        return { run_id: input.run_id, cancelled: outcome === "cancelled" };
      }),

    /** Approves or denies a tool call the run waits on (its `tool_approval` event), on any instance. */
    approve: apiProcedure
      .input(ApproveInput)
      .output(ApproveResult)
      .mutation(({ ctx, input }) => {
        const { run_id: runId, approval_id: approvalId, approved, reason } = input;
        const answer = reason === undefined ? { approved } : { approved, reason };
        return answerApproval(ctx.services.control, runId, approvalId, answer, ctx.owner);
      }),

    /**
     * Answers a question an MCP server asked during a tool call (its `input_request` event):
     * accept with content that fits the requested schema, decline or cancel; on any instance.
     */
    answerInput: apiProcedure
      .input(AnswerInputInput)
      .output(AnswerInputResult)
      .mutation(({ ctx, input }) => {
        const { run_id: runId, input_id: inputId, action, content } = input;
        const answer = content === undefined ? { action } : { action, content };
        return answerInput(ctx.services.control, runId, inputId, answer, ctx.owner);
      }),
  }),
});

export type AppRouter = typeof appRouter;
