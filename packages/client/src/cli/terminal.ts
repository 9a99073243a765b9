import { createInterface } from "node:readline/promises";
import picocolors from "picocolors";

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** What a command may touch of the process: streams, environment, Ctrl-C and exit. */
export interface Terminal {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  /** Colours for each stream; plain when that stream is not a terminal. */
  colors: { stdout: Colors; stderr: Colors };
  /** Calls `handler` on each Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /** Calls `handler` once if the reader of stdout goes away (e.g. `| head`), until the returned function is called. */
  onOutputClosed(handler: () => void): () => void;
  /** Ends the process at once. */
  exit(code: number): never;
  /** Asks a question on the terminal and resolves with the line typed; undefined when there is no terminal to ask on. */
  ask(question: string, signal: AbortSignal): Promise<string | undefined>;
}

/**
 * Whether to colour a stream: never with NO_COLOR (non-empty, per no-color.org), always with
 * FORCE_COLOR (other than "0"), otherwise only on a terminal that is not TERM=dumb.
 */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: Terminal["env"]): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** The real process as a Terminal. */
export function processTerminal(): Terminal {
  const outputClosed = new Set<() => void>();
  let readerGone = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    // Writes after the reader left fail too; only the first one matters, and none is a crash.
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
    if (readerGone) return;
    readerGone = true;
    for (const handler of outputClosed) handler();
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    colors: {
      stdout: picocolors.createColors(colorEnabled(process.stdout, process.env)),
      stderr: picocolors.createColors(colorEnabled(process.stderr, process.env)),
    },
    onInterrupt(handler) {
      process.on("SIGINT", handler);
      return () => process.off("SIGINT", handler);
    },
    onOutputClosed(handler) {
      outputClosed.add(handler);
      return () => outputClosed.delete(handler);
    },
    exit: (code) => process.exit(code),
    async ask(question, signal) {
      if (process.stdin.isTTY !== true) return undefined;
      const lines = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await lines.question(question, { signal });
      } finally {
        lines.close();
      }
    },
  };
}
