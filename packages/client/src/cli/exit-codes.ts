import type { CommandName } from "./command-line.js";

/** The process exit codes of `brook`, documented in the README. */
export const exitCodes = {
  ok: 0,
  /** The run failed, the server answered an error, or it could not be reached. */
  error: 1,
  /** Bad command line: unknown command or option, missing or invalid value. */
  usage: 2,
  /** Cancelled with Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** A mistake on the command line: reported with a usage hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The command whose usage to show, or undefined for the general usage. */
  readonly command: CommandName | undefined;

  constructor(message: string, command?: CommandName) {
    super(message);
    this.command = command;
  }
}
