import { exitCodes } from "../exit-codes.js";
import { formatHealth } from "../render/format.js";
import type { Command } from "./command-context.js";
import { withTimeout } from "./with-timeout.js";

/** `brook health`: exits 0 only when the server is up and ready. */
export const healthCommand: Command = async ({ terminal, client, options }) => {
  const health = await withTimeout(options.url, (signal) => client.trpc.health.query(undefined, { signal }));
  const text = options.json ? JSON.stringify(health) : formatHealth(health, options.url, terminal.colors.stdout);
  terminal.stdout.write(`${text}\n`);
  return health.status === "ok" ? exitCodes.ok : exitCodes.error;
};
