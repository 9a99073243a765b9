import { parseEventId } from "@brook/shared";

/** Where a reader resumes: in `runId`, from `fromSeq` (the event after the one it saw last). */
export interface ResumePoint {
  runId: string;
  fromSeq: number;
}

/**
 * The resume point of a reader that saw `lastEventId` (`<run_id>:<seq>`: Last-Event-ID, tRPC's
 * lastEventId) last; undefined when it is no event id, or one of another run than `runId`.
 */
export function resumePoint(lastEventId: string, runId?: string): ResumePoint | undefined {
  const id = parseEventId(lastEventId);
  if (id === undefined || (runId !== undefined && id.runId !== runId)) return undefined;
  return { runId: id.runId, fromSeq: id.seq + 1 };
}
