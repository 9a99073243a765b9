import { type CommandName, defaultUrl } from "./command-line.js";

const connection = `  --url <url>            Brook's base URL (default: $BROOK_URL, else
                         http://127.0.0.1:$PORT, else ${defaultUrl})
  --api-key <key>        API key, when the server requires one (default: $BROOK_API_KEY)`;

const exitCodes = `Exit codes: 0 success, 1 error, 2 usage error, 130 interrupted (Ctrl-C).`;

const general = `brook: chat with a Brook server from the terminal

Usage:
  brook chat [options] [message...]   Stream an answer (the message is read from stdin when absent or '-')
  brook health [options]              Show whether the server is up, its mode and model
  brook stats [options]               Show requests, tokens, cost and latency since the last reset
  brook mcp connect <server>          Print the page that connects an OAuth MCP server
  brook help [command]                Show help for a command

Options:
${connection}
  --json                 Print raw JSON instead of text
  -h, --help             Show help
  -v, --version          Show the version

${exitCodes}`;

const perCommand: Record<CommandName, string> = {
  chat: `Usage: brook chat [options] [message...]

Streams the answer to stdout as it arrives; the model's thinking (reasoning models, dimmed),
tool calls, usage (tokens, cost) and timing (time to first token, duration, tokens/s) go to
stderr. The message is the arguments joined
by spaces; without any, or for '-', it is read from stdin (e.g. git diff | brook chat "Review:" -).
Ctrl-C cancels the run on the server; a second Ctrl-C quits at once.

Options:
  -s, --system <text>    System prompt (an empty string sends none)
  -m, --model <name>     Model (default: the server's)
  -t, --temperature <n>  Sampling temperature, 0 to 2
  --max-tokens <n>       Longest answer, in tokens
  --reasoning-effort <level>
                         How hard a reasoning model thinks: low, medium or high
  --no-reasoning         Do not show the model's thinking
  --schema <file>        A JSON Schema of an object: the answer is such an object, printed as
                         JSON on stdout once complete (its text streams to stderr meanwhile)
  --approve-all          Approve every tool call that needs approval (TOOL_APPROVAL)
  --deny-all             Deny them all; without either, ask y/N on the terminal (no terminal: deny)
  --image <file>         Send an image (PNG, JPEG, GIF or WebP) with the message; repeatable
  --file <file>          Send a text file (Markdown, CSV, JSON, code…) with the message; repeatable
  --json                 Print every event as one JSON line (NDJSON) on stdout, reasoning included
${connection}

${exitCodes}`,
  health: `Usage: brook health [options]

Shows the server's status, mode (openai or demo), default model, version, uptime and active runs.
Exits 1 when the server is unreachable or not ready (draining).

Options:
  --json                 Print the raw health object
${connection}`,
  mcp: `Usage: brook mcp connect <server> [options]

Starts connecting an MCP server configured with the OAuth authorization code (MCP_SERVERS) and
prints its authorization page: open it in a browser and allow Brook; Brook keeps the tokens, and
the server's tools come up. The page is valid for 10 minutes, once.

Options:
  --json                 Print the raw answer (server, authorization_url, expires_in)
${connection}`,
  stats: `Usage: brook stats [options]

Shows requests (by kind and outcome), tokens, cost, time-to-first-token and duration percentiles,
and per-model totals since the last reset.

Options:
  --json                 Print the raw statistics object
${connection}`,
  help: `Usage: brook help [command]

Shows help for brook or for one command (chat, health, mcp, stats).`,
};

export function helpText(command: CommandName | undefined): string {
  return command === undefined ? general : perCommand[command];
}

/** The one line printed under a usage error. */
export function usageHint(command: CommandName | undefined): string {
  return command === undefined || command === "help"
    ? "Run 'brook --help' for usage."
    : `Run 'brook ${command} --help' for usage.`;
}
