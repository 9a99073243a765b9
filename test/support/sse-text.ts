/**
 * Raw-text helpers for the REST/SSE tests: they read the wire as `curl` would, without the
 * shared SSE reader, so that the wire format itself is under test.
 */
import { type ChatEvent, isTerminal } from "@brook/shared";

/** One SSE block (the lines between blank lines) of a Brook stream. */
export interface SseBlock {
  /** Every line of the block, in order. */
  lines: string[];
  /** The `id:` value, if the block had one. */
  id: string | undefined;
  /** The parsed `data:` payload, if the block had one. */
  event: ChatEvent | undefined;
  /** True for a comment-only block such as `: ping`. */
  comment: boolean;
}

export interface RawStream {
  response: Response;
  text: string;
  blocks: SseBlock[];
  /** The events of all data blocks, in order (including any after a terminal event). */
  events: ChatEvent[];
}

/** Splits SSE text into blocks and parses their `id:` and `data:` lines. */
export function parseSseText(text: string): SseBlock[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block !== "")
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const id = lines.find((line) => line.startsWith("id: "))?.slice(4);
      const data = lines.find((line) => line.startsWith("data: "))?.slice(6);
      return {
        lines,
        id,
        event: data === undefined ? undefined : (JSON.parse(data) as ChatEvent),
        comment: lines.every((line) => line.startsWith(":")),
      };
    });
}

/** Reads a whole SSE response as text and parses it. */
export async function readRawStream(response: Response): Promise<RawStream> {
  const text = await response.text();
  const blocks = parseSseText(text);
  const events = blocks.flatMap((block) => (block.event === undefined ? [] : [block.event]));
  return { response, text, blocks, events };
}

/** POSTs `body` to `/chat/stream` and reads the whole answer as raw SSE text. */
export async function postStreamRaw(url: string, body: unknown, init: RequestInit = {}): Promise<RawStream> {
  const response = await fetch(`${url}/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });
  return readRawStream(response);
}

/** The terminal events of a stream: a well-formed stream has exactly one, and it is last. */
export function terminalsOf(events: readonly ChatEvent[]): ChatEvent[] {
  return events.filter(isTerminal);
}

/** A steering directive for the fake upstream, to put into a chat message. */
export function fake(behavior: Record<string, unknown>): string {
  return `[[fake:${JSON.stringify(behavior)}]]`;
}

/** The `data:` payloads of an SSE text, in order, comments skipped (for formats other than Brook's own). */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .find((line) => line.startsWith("data: "))
        ?.slice(6),
    )
    .filter((data): data is string => data !== undefined);
}
