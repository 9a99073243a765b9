import { exitCodes } from "../exit-codes.js";
import { formatStats } from "../render/format.js";
import type { Command } from "./command-context.js";
import { withTimeout } from "./with-timeout.js";

/** `brook stats`: the server's statistics since its last reset. */
export const statsCommand: Command = async ({ terminal, client, options }) => {
  const stats = await withTimeout(options.url, (signal) => client.trpc.stats.get.query(undefined, { signal }));
  const text = options.json ? JSON.stringify(stats) : formatStats(stats, terminal.colors.stdout);
  terminal.stdout.write(`${text}\n`);
  return exitCodes.ok;
};
