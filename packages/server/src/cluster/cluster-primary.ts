import cluster, { type Address, type Worker } from "node:cluster";
import type { Logger } from "pino";
import { serveWorkerMetrics } from "../stats/worker-metrics.js";

/** What the primary tells its workers; a worker takes them as it takes SIGTERM. */
export const workerMessages = {
  /** Drain and exit, as on a first SIGTERM. */
  shutdown: "brook:shutdown",
  /** Exit at once, as on a second one. */
  stopNow: "brook:stop-now",
} as const;

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** Once, when every worker listens on the port they share. */
  onListening(address: Address): void;
}

/**
 * The primary of WORKERS processes (node:cluster): it forks them, and they share its listening
 * socket. It serves no request itself; it sums every worker's metrics when one asks (`/metrics`). The first worker starts alone, so that a setting Brook
 * cannot start with is said once, then the others; a worker that fails to start stops them all
 * (exit 1). A worker that dies later (a crash, kill -9, out of memory) is replaced; one that
 * exits 0 was asked to stop and is not. SIGTERM/SIGINT: every worker drains, then the primary
 * exits 0 (1 if one of them failed); a second signal stops them at once.
 */
export function runPrimary({ workers, log, onListening }: PrimaryOptions): void {
  const listened = new Set<number>();
  let started = false;
  let stopping = false;
  let exitCode = 0;

  const live = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
  const tell = (message: string) => {
    // A worker already exiting has closed its channel: nothing to tell it.
    for (const worker of live()) if (worker.isConnected()) worker.send(message, () => {});
  };
  const stop = (code: number) => {
    stopping = true;
    exitCode = Math.max(exitCode, code);
    tell(workerMessages.shutdown);
    if (live().length === 0) process.exit(exitCode);
  };

  cluster.on("listening", (worker, address) => {
    listened.add(worker.id);
    log.info(`worker ${worker.id} (pid ${worker.process.pid}) is listening`);
    if (started || stopping) return;
    if (listened.size === 1) for (let index = 1; index < workers; index++) cluster.fork();
    if (listened.size === workers) {
      started = true;
      onListening(address);
    }
  });

  cluster.on("exit", (worker, code, signal) => {
    const pid = worker.process.pid;
    const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
    const remaining = live().length;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (code !== 0) log.warn(`worker ${worker.id} (pid ${pid}) ${how}`);
      if (remaining === 0) {
        log.info("shut down");
        process.exit(exitCode);
      }
    } else if (!listened.has(worker.id)) {
      // It said why (its one line, or its stack), unless a signal took it.
      if (signal !== null) log.error(`worker ${worker.id} (pid ${pid}) ${how} before it listened`);
      if (started) {
        log.error(`worker ${worker.id} could not start: ${remaining} worker(s) go on serving`);
        if (remaining === 0) process.exit(1);
      } else {
        stop(1);
      }
    } else if (code === 0 && signal === null) {
      log.info(`worker ${worker.id} (pid ${pid}) stopped when asked to; not replaced`);
      if (remaining === 0) process.exit(0);
    } else {
      log.error(`worker ${worker.id} (pid ${pid}) ${how}: starting a replacement`);
      cluster.fork();
    }
  });

  serveWorkerMetrics();

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) {
        log.warn(`${signal} again: stopping the workers now`);
        tell(workerMessages.stopNow);
        return;
      }
      log.info(`${signal}: shutting down ${live().length} worker(s)`);
      stop(0);
    });
  }

  cluster.fork();
}
