import { type ChildProcess, spawn } from "node:child_process";
import { sourceEntryArgs } from "./source-entry.js";

const cliSourceArgs = sourceEntryArgs("packages/client/src/cli/main.ts");

export interface CliProcess {
  child: ChildProcess;
  /** What the process wrote to stdout so far, and each piece as it arrived. */
  stdout(): string;
  stdoutChunks: string[];
  stderr(): string;
  /** Resolves once stdout contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForStdout(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CliOptions {
  /** Environment besides PATH and HOME (nothing else is inherited, so BROOK_* come only from here). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
}

/** Runs the real `brook` entry point (`src/cli/main.ts`, as `pnpm brook` does) in a child process. */
export function spawnBrookCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...cliSourceArgs, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin?.end(options.stdin ?? "");
  const stdoutChunks: string[] = [];
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdoutChunks.push(chunk);
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  // "close" comes after the output streams have ended, so nothing printed is missed.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const stdout = () => stdoutChunks.join("");
  return {
    child,
    stdout,
    stdoutChunks,
    stderr: () => stderr,
    exited,
    waitForStdout(text, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!stdout().includes(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`stdout did not contain ${JSON.stringify(text)} within ${timeoutMs} ms; got:\n${stdout()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
        void exited.then(() => {
          if (!listeners.has(check)) return;
          cleanup();
          reject(new Error(`brook exited before stdout contained ${JSON.stringify(text)}; stderr:\n${stderr}`));
        });
      });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `brook` to its end. */
export async function runBrookCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = spawnBrookCli(args, options);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

export interface TerminalCli {
  /** Everything the terminal showed so far (stdout and stderr together, as a person sees them). */
  output(): string;
  /** Types `line` and Enter. */
  type(line: string): void;
  exited: Promise<number | null>;
}

/** Single-quoted for sh. */
const quoted = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** Runs `brook` on a real terminal: `script` gives it a pty and passes what the test types to it. */
export function spawnBrookCliOnTerminal(args: readonly string[]): TerminalCli {
  const command = ["node", ...cliSourceArgs, ...args].map(quoted).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TERM: "dumb" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  return {
    output: () => output,
    type: (line) => child.stdin.write(`${line}\r`),
    exited: new Promise((resolve) => child.once("close", (code) => resolve(code))),
  };
}
