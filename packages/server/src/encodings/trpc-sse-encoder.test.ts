import { setTimeout as sleep } from "node:timers/promises";
import { TRPCError, tracked } from "@trpc/server";
import { sseStreamProducer } from "@trpc/server/unstable-core-do-not-import";
import { describe, expect, it } from "vitest";
import { trpcSseWire } from "./trpc-sse-encoder.js";

/** Everything tRPC's own SSE producer writes for `values`, as text. */
async function producedByTrpc(values: () => AsyncIterable<unknown>, formatError: (error: unknown) => unknown) {
  const stream = sseStreamProducer({
    data: values(),
    ping: { enabled: true, intervalMs: 20 },
    client: { reconnectAfterInactivityMs: 40 },
    formatError: ({ error }) => formatError(error),
  });
  let text = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream as AsyncIterable<Uint8Array>) text += decoder.decode(bytes, { stream: true });
  return text;
}

describe("tRPC's SSE wire format", () => {
  const wire = trpcSseWire({ reconnectAfterInactivityMs: 40 }, (value) => value);
  const shape = (error: unknown) => ({ message: (error as Error).message, code: -32603 });

  it("matches sseStreamProducer for tracked values, pings during silence and the return", async () => {
    const text = await producedByTrpc(async function* () {
      yield tracked("run:0", { type: "content", chunk: "a\nb 👋" });
      await sleep(70);
      yield tracked("run:1", { type: "content", chunk: "c" });
    }, shape);
    // Pings come after each 20 ms of silence: how many fit in 70 ms depends on the timers.
    const pings = text.split(wire.ping).length - 1;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(text.replaceAll(wire.ping, "")).toBe(
      wire.connected +
        wire.event("run:0", { type: "content", chunk: "a\nb 👋" }) +
        wire.event("run:1", { type: "content", chunk: "c" }) +
        wire.end,
    );
  });

  it("matches sseStreamProducer for an error raised while streaming", async () => {
    const text = await producedByTrpc(async function* () {
      yield tracked("run:0", { type: "start" });
      throw new TRPCError({ code: "NOT_FOUND", message: "gone" });
    }, shape);
    expect(text.replaceAll(wire.ping, "")).toBe(
      wire.connected + wire.event("run:0", { type: "start" }) + wire.error({ message: "gone", code: -32603 }),
    );
  });
});
