import type { BrookClient } from "../../brook-client.js";
import type { CommandOptions } from "../command-line.js";
import type { ExitCode } from "../exit-codes.js";
import type { Terminal } from "../terminal.js";

export interface CommandContext {
  terminal: Terminal;
  client: BrookClient;
  options: CommandOptions;
  /** The arguments after the command name. */
  words: string[];
}

export type Command = (context: CommandContext) => Promise<ExitCode>;
