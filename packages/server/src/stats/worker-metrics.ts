import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from "prom-client";
import { BrookError } from "../errors/brook-error.js";

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Between a worker and its primary over node:cluster's channel (Brook's other messages are strings). */
type Message =
  /** A worker asks for every worker's metrics, summed; the primary answers with `sum`. */
  | { type: "brook:metrics"; id: number }
  | { type: "brook:metrics-sum"; id: number; text?: string; error?: string }
  /** The primary asks each worker for its own metrics; it answers with `part`. */
  | { type: "brook:metrics-ask"; id: number }
  | { type: "brook:metrics-part"; id: number; metrics?: MetricsJson; error?: string };

/** How long the primary waits for each worker's metrics, and a worker for the sum. */
const partMs = 5_000;
const sumMs = 10_000;

/**
 * In the primary: answers a worker's request for every worker's metrics. It asks each worker that
 * listens (one still starting has nothing to count yet) and adds them up with prom-client's
 * `AggregatorRegistry.aggregate`, each metric by its `aggregator` (counters and histograms summed).
 * A worker that exits or does not answer in time is left out of that sum.
 */
export function serveWorkerMetrics(): void {
  const listening = new Set<number>();
  cluster.on("listening", (worker) => listening.add(worker.id));
  const asked = new Map<number, { worker: number; resolve: (metrics: MetricsJson | undefined) => void }>();
  let nextId = 0;
  cluster.on("exit", (worker) => {
    listening.delete(worker.id);
    for (const [id, question] of asked) {
      if (question.worker !== worker.id) continue;
      asked.delete(id);
      question.resolve(undefined);
    }
  });

  const ask = (worker: Worker) =>
    new Promise<MetricsJson | undefined>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        asked.delete(id);
        resolve(undefined);
      }, partMs);
      asked.set(id, {
        worker: worker.id,
        resolve: (metrics) => {
          clearTimeout(timer);
          resolve(metrics);
        },
      });
      worker.send({ type: "brook:metrics-ask", id } satisfies Message, () => {});
    });

  const sum = async (): Promise<string> => {
    const workers = Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && listening.has(worker.id) && worker.isConnected(),
    );
    const parts = (await Promise.all(workers.map(ask))).filter((part) => part !== undefined);
    if (parts.length === 0) throw new Error("no worker answered");
    return AggregatorRegistry.aggregate(parts).metrics();
  };

  cluster.on("message", (worker: Worker, message: Message | undefined) => {
    if (message?.type === "brook:metrics-part") {
      asked.get(message.id)?.resolve(message.metrics);
      asked.delete(message.id);
    } else if (message?.type === "brook:metrics") {
      const answer = (reply: { text?: string; error?: string }) => {
        if (worker.isConnected()) worker.send({ type: "brook:metrics-sum", id: message.id, ...reply }, () => {});
      };
      sum().then(
        (text) => answer({ text }),
        (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
      );
    }
  });
}

/**
 * In a worker: answers the primary with `registry`'s metrics when it gathers, and returns how to
 * read the sum of every worker's metrics. A failure (no primary, no answer) is `unavailable`.
 */
export function workerMetrics(registry: Registry): () => Promise<string> {
  const waiting = new Map<number, (reply: { text?: string; error?: string }) => void>();
  let nextId = 0;
  process.on("message", (message: Message | undefined) => {
    if (message?.type === "brook:metrics-ask") {
      const { id } = message;
      registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: "brook:metrics-part", id, metrics } satisfies Message),
        (error: unknown) => process.send?.({ type: "brook:metrics-part", id, error: String(error) } satisfies Message),
      );
    } else if (message?.type === "brook:metrics-sum") {
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const fail = (why: string) =>
        reject(new BrookError("unavailable", `The metrics of every worker could not be gathered (${why}); retry.`));
      if (!process.connected) return fail("the primary is gone");
      const timer = setTimeout(() => {
        waiting.delete(id);
        fail(`no answer in ${sumMs / 1000} s`);
      }, sumMs);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.text !== undefined) resolve(reply.text);
        else fail(reply.error ?? "no text");
      });
      process.send?.({ type: "brook:metrics", id } satisfies Message);
    });
}
