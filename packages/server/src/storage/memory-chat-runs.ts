import type { ChatRuns } from "./chat-runs.js";

/**
 * Chats' runs in this process, the most recent `capacity` of them: an older chat's run has been
 * forgotten by the run store by then (resuming it answers 204 either way).
 */
export class MemoryChatRuns implements ChatRuns {
  readonly #runs = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  async set(chatId: string, runId: string): Promise<string | undefined> {
    const replaced = this.#runs.get(chatId);
    // Re-inserted: the map's order is the chats' last use, the oldest first.
    this.#runs.delete(chatId);
    this.#runs.set(chatId, runId);
    if (this.#runs.size > this.capacity) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
    return replaced;
  }

  async get(chatId: string): Promise<string | undefined> {
    return this.#runs.get(chatId);
  }

  async close(): Promise<void> {
    this.#runs.clear();
  }
}
