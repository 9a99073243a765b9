import { readFileSync } from "node:fs";
import { type CommandName, parseCommandLine } from "./command-line.js";
import type { Command } from "./commands/command-context.js";
import { type ExitCode, exitCodes, UsageError } from "./exit-codes.js";
import { helpText, usageHint } from "./help.js";
import type { Terminal } from "./terminal.js";

// Loaded on demand: help, version and usage errors answer without loading the client.
const handlers: Record<Exclude<CommandName, "help">, () => Promise<Command>> = {
  chat: async () => (await import("./commands/chat.js")).chatCommand,
  health: async () => (await import("./commands/health.js")).healthCommand,
  mcp: async () => (await import("./commands/mcp.js")).mcpCommand,
  stats: async () => (await import("./commands/stats.js")).statsCommand,
};

/** Runs `brook` with `argv` (the arguments after the program name) and returns the exit code. */
export async function runCli(argv: readonly string[], terminal: Terminal): Promise<ExitCode> {
  const { stdout, stderr } = terminal;
  const colors = terminal.colors.stderr;
  try {
    const invocation = parseCommandLine(argv, terminal.env);
    if (invocation.kind === "version") {
      stdout.write(`${version()}\n`);
      return exitCodes.ok;
    }
    if (invocation.kind === "help") {
      stdout.write(`${helpText(invocation.command)}\n`);
      return exitCodes.ok;
    }
    const { command, options, words } = invocation;
    if (command === "help") throw new Error("unreachable: help is handled above");
    const [run, { createBrookClient }, { describeFailure }] = await Promise.all([
      handlers[command](),
      import("../brook-client.js"),
      import("./failure.js"),
    ]);
    const client = createBrookClient({ url: options.url, apiKey: options.apiKey });
    try {
      return await run({ terminal, client, options, words });
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const failure = describeFailure(error, options.url);
      stderr.write(`${colors.red("brook:")} ${failure.message}\n`);
      return failure.exitCode;
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`${colors.red("brook:")} ${error.message}\n${usageHint(error.command)}\n`);
    return exitCodes.usage;
  }
}

/** The version of this package (src/cli and dist/cli are both two levels below it). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}
