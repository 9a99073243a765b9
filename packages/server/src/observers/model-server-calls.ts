import type { RunObserver } from "../control/run-control.js";
import type { ModelServerMonitor } from "../models/model-server-monitor.js";

/** Runs tell what their model calls met: no connection marks the model server down, an answer up. */
export function observeModelCalls(monitor: ModelServerMonitor): RunObserver {
  return ({ terminal }) => {
    if (terminal.type === "complete") monitor.answered();
    else if (terminal.code === "upstream_unreachable") monitor.unreachable();
  };
}
