import { BrookError } from "../errors/brook-error.js";
import type { ChatRuns } from "../storage/chat-runs.js";
import type { RedisClients } from "./redis-clients.js";

/** Chats' runs shared by every instance: a chat resumed or stopped on another instance finds its run. */
export class RedisChatRuns implements ChatRuns {
  constructor(
    private readonly clients: RedisClients,
    /** How long a chat's latest run is remembered: as long as the run itself may be kept. */
    private readonly ttlMs: number,
  ) {}

  async set(chatId: string, runId: string): Promise<string | undefined> {
    try {
      const replaced = await this.clients.commands.set(key(chatId), runId, "PX", this.ttlMs, "GET");
      return replaced ?? undefined;
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
  }

  async get(chatId: string): Promise<string | undefined> {
    try {
      return (await this.clients.commands.get(key(chatId))) ?? undefined;
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
  }

  async close(): Promise<void> {}
}

const key = (chatId: string) => `brook:chat:{${chatId}}:run`;
