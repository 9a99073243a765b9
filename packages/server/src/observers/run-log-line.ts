import type { Logger } from "pino";
import type { RunEnded } from "../control/run-control.js";

/**
 * One line per ended run: what operators need, and the conversation itself only when
 * LOG_CONTENT asks for it.
 */
export function logRunLine(log: Logger, { id, model, terminal, request }: RunEnded, logContent: boolean): void {
  const { usage } = terminal;
  const fields = {
    run_id: id,
    model,
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cost: usage.total_cost,
    ...(logContent
      ? { message: request.message, ...(terminal.type === "complete" ? { response: terminal.full_content } : {}) }
      : {}),
  };
  if (terminal.type === "complete") log.info({ ...fields, duration_ms: terminal.timing.duration_ms }, "run complete");
  else log.info({ ...fields, code: terminal.code }, "run failed");
}
