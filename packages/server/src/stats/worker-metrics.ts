import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import { BrookError } from "../errors/brook-error.js";

/** A worker asks its primary for every worker's metrics; the primary answers with their sum. */
const request = "brook:metrics";
const response = "brook:metrics-sum";

interface MetricsRequest {
  type: typeof request;
  id: number;
}

interface MetricsResponse {
  type: typeof response;
  id: number;
  text?: string;
  error?: string;
}

/** How long a worker waits for the sum (the primary's own wait for each worker is prom-client's, 5 s). */
const waitMs = 10_000;

/**
 * In the primary: answers a worker's request for every worker's metrics with prom-client's
 * AggregatorRegistry, which asks each worker for its registry and merges them, each metric by its
 * `aggregator` (counters and histograms summed).
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker: Worker, message: MetricsRequest | undefined) => {
    if (message?.type !== request) return;
    const answer = (reply: Omit<MetricsResponse, "type" | "id">) => {
      if (worker.isConnected()) worker.send({ type: response, id: message.id, ...reply }, () => {});
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * In a worker: gives `registry` to the primary when it gathers, and returns how to read the sum of
 * every worker's metrics through it. A failure (the primary or a worker not answering) is
 * `unavailable`.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Its constructor makes this worker answer the primary's requests.
  new AggregatorRegistry();
  const waiting = new Map<number, (reply: MetricsResponse) => void>();
  let nextId = 0;
  process.on("message", (message: MetricsResponse | undefined) => {
    if (message?.type !== response) return;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const fail = (why: string) =>
        reject(new BrookError("unavailable", `The metrics of every worker could not be gathered (${why}); retry.`));
      if (!process.connected) return fail("the primary is gone");
      const timer = setTimeout(() => {
        waiting.delete(id);
        fail(`no answer in ${waitMs / 1000} s`);
      }, waitMs);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.text !== undefined) resolve(reply.text);
        else fail(reply.error ?? "no text");
      });
      process.send?.({ type: request, id } satisfies MetricsRequest);
    });
}
