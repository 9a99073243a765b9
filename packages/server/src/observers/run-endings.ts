import type { Logger } from "pino";
import type { RunObserver } from "../control/run-control.js";
import type { Metrics } from "../stats/metrics.js";
import type { RunStats } from "../stats/run-stats.js";
import { logRunLine } from "./run-log-line.js";

export interface RunEndingSinks {
  stats: RunStats;
  metrics: Metrics;
  log: Logger;
  /** LOG_CONTENT: the log line carries the message and the answer. */
  logContent: boolean;
}

/** The one observer of run endings: the statistics, the metrics and the run's log line. */
export function observeRunEndings({ stats, metrics, log, logContent }: RunEndingSinks): RunObserver {
  return (ended) => {
    stats.record(ended);
    metrics.record(ended);
    logRunLine(log, ended, logContent);
  };
}
