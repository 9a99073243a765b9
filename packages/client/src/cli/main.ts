#!/usr/bin/env node
import { exitCodes } from "./exit-codes.js";
import { runCli } from "./run-cli.js";
import { processTerminal } from "./terminal.js";

const code = await runCli(process.argv.slice(2), processTerminal());
process.exitCode = code;
// Let pending writes and a run's cancellation reach the server, but never linger on an open handle,
// and end at once on a Ctrl-C meanwhile.
process.once("SIGINT", () => process.exit(exitCodes.interrupted));
setTimeout(() => process.exit(code), 3000).unref();
