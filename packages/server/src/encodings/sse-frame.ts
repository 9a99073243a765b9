/**
 * The text/event-stream framing every encoder writes: one `field: value` line per field, then
 * the blank line that ends a message. `gap` is that blank line; tRPC's producer writes one more.
 * Each message is one template, so a frame costs no more than the text it carries.
 */
export function sseFramer(gap = "\n") {
  return {
    /** `data:` only. */
    data: (data: string) => `data: ${data}\n${gap}`,
    /** A named event: `event:` then `data:`. */
    event: (name: string, data: string) => `event: ${name}\ndata: ${data}\n${gap}`,
    /** `id:` then `data:` (the seed's order). */
    idData: (id: string, data: string) => `id: ${id}\ndata: ${data}\n${gap}`,
    /** `data:` then `id:` (tRPC's order). */
    dataId: (data: string, id: string) => `data: ${data}\nid: ${id}\n${gap}`,
    /** A comment line: readers ignore it, proxies see traffic. */
    ping: `: ping\n${gap}`,
    /** The end of an OpenAI-style stream (OpenAI's chunks, the AI SDK's UI message stream). */
    done: `data: [DONE]\n${gap}`,
  };
}

export type SseFramer = ReturnType<typeof sseFramer>;

/** Standard framing: messages end with one blank line. */
export const sse = sseFramer();
