import { type ChatEvent, formatEventId } from "@brook/shared";
import { eventStreamHeaders, type StreamEncoder } from "./stream-encoder.js";

const headers = { "content-type": "text/event-stream; charset=utf-8", ...eventStreamHeaders } as const;

/** The seed's format: `id: <run_id>:<seq>` and `data: <json>` per event, `: ping` comments. */
export function restSseEncoder(runId: string): StreamEncoder {
  return {
    headers,
    start: () => "",
    event: (event: ChatEvent, seq: number) => `id: ${formatEventId(runId, seq)}\ndata: ${JSON.stringify(event)}\n\n`,
    end: () => "",
    ping: ": ping\n\n",
  };
}
