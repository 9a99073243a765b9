/**
 * Which run answers each chat of the AI SDK's surface (`/api/chat`): a chat id (scoped to the
 * caller's key) → its latest run, so that `GET /api/chat/:id/stream` and `POST /api/chat/:id/stop`
 * find it. In this process now; a shared backend (Redis) lets every instance find it.
 */
export interface ChatRuns {
  /** `runId` is now the chat's run; resolves to the run it replaces, if any. */
  set(chatId: string, runId: string): Promise<string | undefined>;
  /** The chat's latest run, if one is known. */
  get(chatId: string): Promise<string | undefined>;
  /** Frees what the index holds. */
  close(): Promise<void>;
}
