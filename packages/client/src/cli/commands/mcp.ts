import { BrookHttpError } from "../../brook-client.js";
import { exitCodes, UsageError } from "../exit-codes.js";
import type { Command } from "./command-context.js";

/**
 * `brook mcp connect <server>`: starts connecting an MCP server that uses the OAuth authorization
 * code, and prints the page to open in a browser (the tokens stay in Brook).
 */
export const mcpCommand: Command = async ({ terminal, client, options, words }) => {
  const [action, server, ...rest] = words;
  if (action !== "connect" || server === undefined || rest.length > 0) {
    throw new UsageError("usage: brook mcp connect <server>", "mcp");
  }
  try {
    const started = await client.connectMcpServer(server);
    if (options.json) terminal.stdout.write(`${JSON.stringify(started)}\n`);
    else {
      terminal.stderr.write(
        `Open this page in a browser to connect "${started.server}" (valid ${Math.round(started.expires_in / 60)} minutes):\n`,
      );
      terminal.stdout.write(`${started.authorization_url}\n`);
    }
    return exitCodes.ok;
  } catch (error) {
    if (!(error instanceof BrookHttpError)) throw error;
    const hint = error.status === 401 ? " Give one with --api-key or BROOK_API_KEY." : "";
    throw new Error(`${error.message} (${error.code ?? error.status})${hint}`);
  }
};
