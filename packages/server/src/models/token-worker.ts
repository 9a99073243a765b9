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

/** The worker thread and the counts it owes, by id. */
interface TokenWorker {
  thread: Worker;
  waiting: Map<number, (count: WorkerCount) => void>;
}

let worker: TokenWorker | undefined;
let nextId = 0;

function startWorker(): TokenWorker | undefined {
  try {
    const tokenizer = createRequire(import.meta.url).resolve("gpt-tokenizer");
    // No loaders or flags of the parent (test runners, tsx): the worker only requires one CommonJS file.
    const thread = new Worker(workerSource, { eval: true, workerData: { tokenizer }, execArgv: [] });
    const started: TokenWorker = { thread, waiting: new Map() };
    const { waiting } = started;
    // It must not keep Brook (or a test) alive; pending counts hold it while they wait.
    thread.unref();
    thread.on("message", ({ id, ...count }: WorkerCount & { id: number }) => {
      const resolve = waiting.get(id);
      waiting.delete(id);
      if (waiting.size === 0) thread.unref();
      resolve?.(count);
    });
    const lost = () => {
      if (worker === started) worker = undefined;
      // What was not counted is estimated by the caller.
      for (const resolve of waiting.values()) resolve(nothing);
      waiting.clear();
    };
    thread.on("error", lost);
    thread.on("exit", lost);
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
    current.waiting.set(id, resolve);
    current.thread.ref();
    current.thread.postMessage({ id, slices, budgetMs });
  });
}

let holders = 0;

/**
 * Holds the tokenizer's worker for a Brook (several can share a process): the thread ends, and
 * its memory with it, when the last holder lets go. It starts again if something counts later.
 * Resolves once the thread has exited.
 */
export function holdTokenWorker(): () => Promise<void> {
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    holders--;
    if (holders > 0 || worker === undefined) return;
    const ending = worker;
    worker = undefined;
    // Counts still waiting resolve as nothing counted (the exit handler): the caller estimates them.
    await ending.thread.terminate();
  };
}
