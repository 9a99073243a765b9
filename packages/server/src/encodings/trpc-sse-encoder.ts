import { type ChatEvent, formatEventId } from "@brook/shared";
import { sseFramer } from "./sse-frame.js";
import type { StreamEncoder } from "./stream-encoder.js";

/** tRPC's SSE response headers, in the order its `Headers` iterate. */
export const trpcSseHeaders = {
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "content-type": "text/event-stream",
  vary: "trpc-accept, accept",
  "x-accel-buffering": "no",
} as const;

/** tRPC's `sseStreamProducer` adds a blank line after every message. */
const trpcSse = sseFramer("\n\n");

/**
 * The text of each part of a stream as tRPC's `sseStreamProducer` writes it: one `field: value`
 * line per field (event, data, id), then the blank line it adds after every message.
 */
export function trpcSseWire(client: object, serialize: (value: unknown) => unknown) {
  return {
    connected: trpcSse.event("connected", JSON.stringify(client)),
    ping: trpcSse.event("ping", ""),
    end: trpcSse.event("return", ""),
    /** A tracked value. */
    event: (id: string, value: unknown) => trpcSse.dataId(JSON.stringify(serialize(value)), id),
    /** The errorFormatter's shape of an error raised while streaming. */
    error: (shape: unknown) => trpcSse.event("serialized-error", JSON.stringify(serialize(shape))),
  };
}

export type TrpcSseWire = ReturnType<typeof trpcSseWire>;

/**
 * A run subscription (`chat.stream`, `chat.events`) in tRPC's SSE format, byte for byte: the
 * `connected` event, each event as a tracked value with id `<run_id>:<seq>`, pings, `return` at
 * the end, and a failure as tRPC's `serialized-error` (shaped by the router's errorFormatter).
 */
export function trpcSseEncoder(
  runId: string,
  wire: TrpcSseWire,
  errorShape: (error: unknown) => unknown,
): StreamEncoder {
  return {
    headers: trpcSseHeaders,
    start: () => wire.connected,
    event: (event: ChatEvent, seq: number) => wire.event(formatEventId(runId, seq), event),
    end: () => wire.end,
    ping: wire.ping,
    failure: (error) => wire.error(errorShape(error)),
  };
}
