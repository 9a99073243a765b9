import { z } from "zod";
import { instanceChannel, type RedisClients } from "./redis-clients.js";

/** What instances tell each other about the runs one of them produces. */
const InstanceMessage = z.object({
  /** `cancel`: stop the run; `presence`: a reader elsewhere is reading it; `absent`: no more. */
  type: z.enum(["cancel", "presence", "absent"]),
  runId: z.string().min(1).max(100),
  /** The sending instance. */
  from: z.string().min(1).max(100),
});
export type InstanceMessage = z.infer<typeof InstanceMessage>;

/**
 * This instance's channel on Redis pub/sub: other instances send it requests about the runs it
 * produces (cancel) and news of their readers (presence), and it sends theirs.
 */
export class InstanceInbox {
  readonly #handlers = new Map<InstanceMessage["type"], (message: InstanceMessage) => void>();
  readonly #channel: string;

  constructor(
    private readonly clients: RedisClients,
    readonly instanceId: string,
  ) {
    this.#channel = instanceChannel(instanceId);
    clients.subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return;
      }
      const message = InstanceMessage.safeParse(json);
      if (message.success) this.#handlers.get(message.data.type)?.(message.data);
    });
    void clients.subscriber.subscribe(this.#channel).catch(() => {});
  }

  on(type: InstanceMessage["type"], handler: (message: InstanceMessage) => void): void {
    this.#handlers.set(type, handler);
  }

  /** Sends a message to `instanceId`; resolves with how many instances received it (0: it is gone). */
  async send(instanceId: string, type: InstanceMessage["type"], runId: string): Promise<number> {
    const message: InstanceMessage = { type, runId, from: this.instanceId };
    return this.clients.commands.publish(instanceChannel(instanceId), JSON.stringify(message));
  }
}
