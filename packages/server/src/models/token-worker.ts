import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** What the worker counted: the tokens of the first `counted` characters of the slices it was sent, and the time it took. */
export interface WorkerCount {
  tokens: number;
  counted: number;
  spentMs: number;
}

const nothing: WorkerCount = { tokens: 0, counted: 0, spentMs: 0 };

/**
 * The tokenizer runs in a worker thread: loading it takes ~0.3 s (seconds on a busy machine)
 * and its first counts are slow, all of which would stop every stream on the event loop.
 * The worker counts slices until its time budget runs out and says how far it got.
 */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
let tokenizer;
try { tokenizer = require(workerData.tokenizer); } catch {}
// User text may contain "<|endoftext|>" and the like: count it as text, do not throw.
const plain = { disallowedSpecial: new Set() };
parentPort.on("message", ({ id, slices, budgetMs }) => {
  const started = performance.now();
  const deadline = started + budgetMs;
  let tokens = 0;
  let counted = 0;
  for (const slice of slices) {
    if (tokenizer === undefined || performance.now() > deadline) break;
    try {
      tokens += tokenizer.countTokens(slice, plain);
    } catch {
      tokens += Math.ceil(slice.length / 4);
    }
    counted += slice.length;
  }
  parentPort.postMessage({ id, tokens, counted, spentMs: performance.now() - started });
});
`;

let worker: Worker | undefined;
const waiting = new Map<number, (count: WorkerCount) => void>();
let nextId = 0;

function startWorker(): Worker | undefined {
  try {
    const tokenizer = createRequire(import.meta.url).resolve("gpt-tokenizer");
    // No loaders or flags of the parent (test runners, tsx): the worker only requires one CommonJS file.
    const started = new Worker(workerSource, { eval: true, workerData: { tokenizer }, execArgv: [] });
    // It must not keep Brook (or a test) alive; pending counts hold it while they wait.
    started.unref();
    started.on("message", ({ id, ...count }: WorkerCount & { id: number }) => {
      const resolve = waiting.get(id);
      waiting.delete(id);
      if (waiting.size === 0) started.unref();
      resolve?.(count);
    });
    const lost = () => {
      if (worker === started) worker = undefined;
      // What was not counted is estimated by the caller.
      for (const resolve of waiting.values()) resolve(nothing);
      waiting.clear();
    };
    started.on("error", lost);
    started.on("exit", lost);
    return started;
  } catch {
    return undefined;
  }
}

/** Counts the slices in the worker for at most `budgetMs`; never rejects (a failure counts nothing). */
export function countInWorker(slices: readonly string[], budgetMs: number): Promise<WorkerCount> {
  worker ??= startWorker();
  const current = worker;
  if (current === undefined || slices.length === 0) return Promise.resolve(nothing);
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    current.ref();
    current.postMessage({ id, slices, budgetMs });
  });
}
