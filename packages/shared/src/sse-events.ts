import { createParser, type EventSourceMessage } from "eventsource-parser";
import { ChatEvent, isTerminal } from "./chat-event.js";

export interface ReceivedChatEvent {
  /** The SSE `id:` of the event (`<run_id>:<seq>`), when the server sent one. */
  id: string | undefined;
  event: ChatEvent;
}

export class ChatEventParseError extends Error {
  override name = "ChatEventParseError";
  constructor(
    message: string,
    readonly data: string,
  ) {
    super(message);
  }
}

/** The stream ended before its terminal event: the answer is incomplete. */
export class ChatStreamEndedError extends Error {
  override name = "ChatStreamEndedError";
  constructor() {
    super("The stream ended before its terminal event (complete or error): the answer is incomplete.");
  }
}

/**
 * Reads an SSE byte stream of Brook events (e.g. the body of `POST /chat/stream`) and yields
 * validated `ChatEvent`s. Comments and pings are skipped; a payload that is not a valid
 * `ChatEvent` throws `ChatEventParseError`. Ends after the terminal event; a stream that ends
 * before it throws `ChatStreamEndedError`. Stopping early cancels the body (and so the run).
 */
export async function* readChatEvents(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ReceivedChatEvent, void, undefined> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => pending.push(message) });
  const decoder = new TextDecoder();
  for await (const bytes of iterate(body)) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    while (pending.length > 0) {
      const received = toChatEvent(pending.shift() as EventSourceMessage);
      if (received === undefined) continue;
      yield received;
      if (isTerminal(received.event)) return;
    }
  }
  throw new ChatStreamEndedError();
}

function toChatEvent(message: EventSourceMessage): ReceivedChatEvent | undefined {
  if (message.event !== undefined && message.event !== "message") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(message.data);
  } catch {
    throw new ChatEventParseError("SSE data is not JSON", message.data);
  }
  const parsed = ChatEvent.safeParse(json);
  if (!parsed.success) throw new ChatEventParseError(`not a Brook event: ${parsed.error.message}`, message.data);
  return { id: message.id, event: parsed.data };
}

async function* iterate(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in body) {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  let done = false;
  try {
    for (;;) {
      const result = await reader.read();
      if (result.done) {
        done = true;
        return;
      }
      yield result.value;
    }
  } finally {
    // Closing the body early is how a reader tells the server it has stopped listening.
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
