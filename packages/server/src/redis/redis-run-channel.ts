import type { InstanceMessages } from "../control/instance-messages.js";
import type { RunChannel } from "../control/run-channel.js";
import type { CancelOutcome } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import { type RedisClients, runKeys } from "./redis-clients.js";

/** Cancels travel to the instance that produces the run, through its channel on Redis pub/sub. */
export class RedisRunChannel implements RunChannel {
  constructor(
    private readonly clients: RedisClients,
    private readonly inbox: InstanceMessages,
  ) {}

  async requestCancel(runId: string): Promise<CancelOutcome> {
    const keys = runKeys(runId);
    let producer: string | null;
    let ended: number;
    try {
      [producer, ended] = await Promise.all([
        this.clients.commands.hget(keys.meta, "producer"),
        this.clients.commands.exists(keys.end),
      ]);
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    if (ended === 1) return "finished";
    if (producer === null) return "not_found";
    // No instance listening means the producer is gone: its lease runs out and readers get `interrupted`.
    await this.inbox.send(producer, "cancel", runId).catch((error: unknown) => {
      throw new BrookError("unavailable", undefined, { cause: error });
    });
    return "cancelled";
  }

  onCancelRequest(listener: (runId: string) => void): void {
    this.inbox.on("cancel", ({ runId }) => listener(runId));
  }
}
