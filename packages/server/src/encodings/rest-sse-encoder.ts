import { type ChatEvent, formatEventId } from "@brook/shared";
import { sse } from "./sse-frame.js";
import { eventStreamHeaders, type StreamEncoder } from "./stream-encoder.js";

const headers = { "content-type": "text/event-stream; charset=utf-8", ...eventStreamHeaders } as const;

/** The seed's format: `id: <run_id>:<seq>` and `data: <json>` per event, `: ping` comments. */
export function restSseEncoder(runId: string): StreamEncoder {
  return {
    headers,
    start: () => "",
    event: (event: ChatEvent, seq: number) => sse.idData(formatEventId(runId, seq), JSON.stringify(event)),
    end: () => "",
    ping: sse.ping,
  };
}
