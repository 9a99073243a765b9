import { z } from "zod";
import type { InstanceMessage, InstanceMessageFields, InstanceMessages } from "../control/instance-messages.js";
import { instanceChannel, type RedisClients } from "./redis-clients.js";

/** An `InstanceMessage` as it travels: parsed, since any client of the Redis may publish. */
const InstanceMessageSchema = z.object({
  type: z.enum(["cancel", "presence", "absent", "answer", "answered"]),
  runId: z.string().min(1).max(100),
  from: z.string().min(1).max(100),
  input: z.string().max(100).optional(),
  value: z.json().optional(),
  reply: z.string().max(100).optional(),
  outcome: z.string().max(100).optional(),
  detail: z.string().max(2_000).optional(),
}) satisfies z.ZodType<InstanceMessage>;

/**
 * This instance's channel on Redis pub/sub: other instances send it requests about the runs it
 * produces (cancel) and news of their readers (presence), and it sends theirs.
 */
export class InstanceInbox implements InstanceMessages {
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
      const message = InstanceMessageSchema.safeParse(json);
      if (message.success) this.#handlers.get(message.data.type)?.(message.data);
    });
    void clients.subscribe(this.#channel).catch(() => {});
  }

  on(type: InstanceMessage["type"], handler: (message: InstanceMessage) => void): void {
    this.#handlers.set(type, handler);
  }

  async send(
    instanceId: string,
    type: InstanceMessage["type"],
    runId: string,
    fields?: InstanceMessageFields,
  ): Promise<number> {
    const message: InstanceMessage = { type, runId, from: this.instanceId, ...fields };
    return this.clients.commands.publish(instanceChannel(instanceId), JSON.stringify(message));
  }
}
