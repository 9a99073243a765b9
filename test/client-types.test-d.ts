import { type AppRouter, createBrookClient } from "@brook/client";
import type { ChatEvent, ChatRequest, ChatResult, ErrorCode, Health, Stats, Usage } from "@brook/shared";
import type { TRPCClientError } from "@trpc/client";
import { describe, expectTypeOf, it } from "vitest";

// Type tests only: nothing here runs, so the URL is never contacted.
const client = createBrookClient({ url: "http://127.0.0.1:8081" });
const { trpc } = client;

describe("@brook/client types follow Brook's router", () => {
  it("types health and stats with the shared schemas", () => {
    expectTypeOf(trpc.health.query).returns.resolves.toEqualTypeOf<Health>();
    expectTypeOf(trpc.stats.get.query).returns.resolves.toEqualTypeOf<Stats>();
    expectTypeOf(trpc.stats.reset.mutate).returns.resolves.toEqualTypeOf<Stats>();
  });

  it("types chat.complete as ChatRequest → ChatResult", () => {
    expectTypeOf(trpc.chat.complete.mutate).parameter(0).toEqualTypeOf<ChatRequest>();
    expectTypeOf(trpc.chat.complete.mutate).returns.resolves.toEqualTypeOf<ChatResult>();

    // @ts-expect-error `message` is required
    void trpc.chat.complete.mutate({ system_prompt: "Be brief." });
    // @ts-expect-error `message` is a string
    void trpc.chat.complete.mutate({ message: 42 });
    // @ts-expect-error history roles are user, assistant or system
    void trpc.chat.complete.mutate({ message: "hi", history: [{ role: "tool", content: "x" }] });
  });

  it("types chat.start, chat.cancel and the chat subscriptions", () => {
    expectTypeOf(trpc.chat.start.mutate).parameter(0).toEqualTypeOf<ChatRequest>();
    expectTypeOf(trpc.chat.start.mutate).returns.resolves.toEqualTypeOf<{ run_id: string }>();
    expectTypeOf(trpc.chat.cancel.mutate).returns.resolves.toEqualTypeOf<{ run_id: string; cancelled: boolean }>();
    // @ts-expect-error chat.cancel needs the run id
    void trpc.chat.cancel.mutate({});

    trpc.chat.events.subscribe(
      { run_id: "r", lastEventId: "r:3" },
      {
        onData(tracked) {
          expectTypeOf(tracked.id).toEqualTypeOf<string>();
          expectTypeOf(tracked.data).toEqualTypeOf<ChatEvent>();
        },
      },
    );
    trpc.chat.stream.subscribe(
      { message: "hi", lastEventId: null },
      {
        onData(tracked) {
          expectTypeOf(tracked.data).toEqualTypeOf<ChatEvent>();
        },
      },
    );
  });

  it("types streamChat's events as the ChatEvent union", async () => {
    expectTypeOf(client.streamChat).parameter(0).toEqualTypeOf<ChatRequest>();
    for await (const event of client.streamChat({ message: "hi" }, { signal: AbortSignal.timeout(1_000) })) {
      expectTypeOf(event).toEqualTypeOf<ChatEvent>();
      if (event.type === "complete") expectTypeOf(event.usage).toEqualTypeOf<Usage>();
      if (event.type === "error") expectTypeOf(event.code).toEqualTypeOf<ErrorCode>();
    }
  });

  it("types a reasoning model's events, result and request fields", async () => {
    for await (const event of client.streamChat({ message: "hi", reasoning_effort: "high" })) {
      if (event.type === "reasoning") expectTypeOf(event.chunk).toEqualTypeOf<string>();
      if (event.type === "complete") {
        expectTypeOf(event.full_reasoning).toEqualTypeOf<string | undefined>();
        expectTypeOf(event.timing.reasoning_ms).toEqualTypeOf<number | undefined>();
        expectTypeOf(event.usage.cached_input_tokens).toEqualTypeOf<number>();
        expectTypeOf(event.usage.reasoning_tokens).toEqualTypeOf<number>();
      }
    }
    expectTypeOf<ChatResult["reasoning"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Stats["tokens"]["reasoning"]>().toEqualTypeOf<number>();
    // @ts-expect-error reasoning_effort is low, medium or high
    void trpc.chat.complete.mutate({ message: "hi", reasoning_effort: "max" });
  });

  it("types the error data Brook's error formatter adds", () => {
    type ErrorData = NonNullable<TRPCClientError<AppRouter>["data"]>;
    expectTypeOf<ErrorData["brook_code"]>().toEqualTypeOf<ErrorCode | undefined>();
    expectTypeOf<ErrorData["retryable"]>().toEqualTypeOf<boolean>();
    expectTypeOf<ErrorData["fields"]>().toEqualTypeOf<Record<string, string[]> | undefined>();
    expectTypeOf<ErrorData["usage"]>().toEqualTypeOf<Usage | undefined>();
  });
});

describe("streamObject types its values from the Zod schema", () => {
  it("partials are deep partials of z.infer; the object is z.infer", async () => {
    const { z } = await import("zod");
    const Recipe = z.object({ title: z.string(), steps: z.array(z.object({ text: z.string() })) });
    const stream = client.streamObject({ message: "hi", schema: Recipe });
    expectTypeOf(stream.object).resolves.toEqualTypeOf<{ title: string; steps: { text: string }[] }>();
    for await (const partial of stream) {
      expectTypeOf(partial).toEqualTypeOf<{ title?: string; steps?: { text?: string }[] }>();
    }
    // @ts-expect-error the schema is a Zod schema of an object
    client.streamObject({ message: "hi", schema: z.string() });
    // @ts-expect-error `output` is made from the schema
    client.streamObject({ message: "hi", schema: Recipe, output: { schema: {} } });
  });
});
