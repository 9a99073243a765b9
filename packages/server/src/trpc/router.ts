import {
  CancelResult,
  ChatRequest,
  ChatStreamInput,
  parseEventId,
  RunEventsInput,
  RunRef,
  StartResult,
  ToolList,
} from "@brook/shared";
import { foldRun } from "../engine/fold-run.js";
import type { Run } from "../engine/run.js";
import { BrookError } from "../errors/brook-error.js";
import { RunSubscription } from "./run-subscription.js";
import { apiProcedure, publicProcedure, t, toTrpcError } from "./trpc.js";

function findRun(runs: { get(id: string): Run | undefined }, runId: string): Run {
  const run = runs.get(runId);
  if (run === undefined)
    throw toTrpcError(new BrookError("not_found", `No run ${runId} (finished runs are kept for a while only).`));
  return run;
}

/** Where a reader resumes: after the event it saw last, in the run that event belongs to. */
function resumePoint(lastEventId: string | null | undefined, expectedRunId?: string) {
  if (lastEventId == null) return undefined;
  const id = parseEventId(lastEventId);
  if (id === undefined || (expectedRunId !== undefined && id.runId !== expectedRunId)) {
    throw toTrpcError(new BrookError("bad_request", `lastEventId "${lastEventId}" is not an event of this run.`));
  }
  return { runId: id.runId, fromSeq: id.seq + 1 };
}

function guard<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw error instanceof BrookError ? toTrpcError(error) : error;
  }
}

export const appRouter = t.router({
  health: publicProcedure.query(({ ctx }) => ctx.services.health()),

  tools: t.router({
    /** The MCP tools the model can use, by the names it calls them. */
    list: apiProcedure.output(ToolList).query(({ ctx }) => ctx.services.toolList()),
  }),

  stats: t.router({
    get: apiProcedure.query(({ ctx }) => ctx.services.stats.snapshot()),
    reset: apiProcedure.mutation(({ ctx }) => {
      ctx.services.stats.reset();
      return ctx.services.stats.snapshot();
    }),
  }),

  chat: t.router({
    /** The whole answer at once. A mutation: it bills. */
    complete: apiProcedure.input(ChatRequest).mutation(async ({ ctx, input, signal }) => {
      const run = guard(() => ctx.services.engine.start(input, { kind: "non_streaming", resumable: false }));
      try {
        return await foldRun(run, signal ?? run.signal);
      } catch (error) {
        throw error instanceof BrookError ? toTrpcError(error) : error;
      }
    }),

    /** Starts a run and streams it; for short inputs (the input travels in the URL). */
    stream: apiProcedure.input(ChatStreamInput).subscription(({ ctx, input, signal }) => {
      const resume = resumePoint(input.lastEventId);
      const run =
        resume === undefined
          ? guard(() => ctx.services.engine.start(input, { kind: "streaming", resumable: true }))
          : findRun(ctx.services.engine, resume.runId);
      return new RunSubscription(run, resume?.fromSeq ?? 0, signal);
    }),

    /** Starts a run of any size (the input travels in the POST body); read it with `chat.events`. */
    start: apiProcedure
      .input(ChatRequest)
      .output(StartResult)
      .mutation(({ ctx, input }) => {
        const run = guard(() => ctx.services.engine.start(input, { kind: "streaming", resumable: true }));
        return { run_id: run.id };
      }),

    /** A run's events from the start, or after `lastEventId` when resuming. */
    events: apiProcedure.input(RunEventsInput).subscription(({ ctx, input, signal }) => {
      const resume = resumePoint(input.lastEventId, input.run_id);
      const run = findRun(ctx.services.engine, input.run_id);
      return new RunSubscription(run, resume?.fromSeq ?? 0, signal);
    }),

    /** Aborts a run: its stream ends with an `error` event of code `cancelled`. */
    cancel: apiProcedure
      .input(RunRef)
      .output(CancelResult)
      .mutation(({ ctx, input }) => {
        const outcome = ctx.services.engine.cancel(input.run_id);
        if (outcome === "not_found") guard(() => findRun(ctx.services.engine, input.run_id));
        return { run_id: input.run_id, cancelled: outcome === "cancelled" };
      }),
  }),
});

export type AppRouter = typeof appRouter;
