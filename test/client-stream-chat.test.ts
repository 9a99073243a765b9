import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { type BrookClientOptions, createBrookClient } from "@brook/client";
import { type ChatEvent, type ChatRequest, ErrorEvent, START_MESSAGE, Usage } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { contentOf, type Harness, serverRun, serverTerminal, until } from "./support/brook-harness.js";
import { afterThisTest, harness, harnessBehindProxy } from "./support/per-test.js";
import { fakeTokens } from "./support/trpc-reader.js";

/** Every HTTP request Brook receives, as its own server saw it. */
function recordRequests(brook: Harness["brook"]): { method: string; url: string; headers: IncomingHttpHeaders }[] {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const record = (request: IncomingMessage) =>
    seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers });
  brook.app.server.on("request", record);
  afterThisTest(() => brook.app.server.off("request", record));
  return seen;
}

/** Reads a streamChat to its end; `onEvent` may act midway (cut a connection, abort). */
async function collect(
  options: BrookClientOptions,
  request: ChatRequest,
  onEvent?: (event: ChatEvent, index: number) => void,
  signal?: AbortSignal,
): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const event of createBrookClient(options).streamChat(request, signal === undefined ? {} : { signal })) {
    events.push(event);
    onEvent?.(event, events.length - 1);
  }
  return events;
}

function startOf(events: readonly ChatEvent[]): { run_id: string } {
  const start = events[0];
  if (start?.type !== "start") throw new Error(`first event is ${start?.type}, not start`);
  return start;
}

describe("streamChat", () => {
  it("yields start, the content and complete for a normal run", async () => {
    const { url, upstream } = await harness({}, { text: "Streaming to the typed client." });
    const events = await collect({ url }, { message: "hello" });

    expect(events[0]).toMatchObject({ type: "start", message: START_MESSAGE, model: "gpt-4o-mini" });
    expect(events.slice(1, -1).every((event) => event.type === "content")).toBe(true);
    expect(contentOf(events)).toBe("Streaming to the typed client.");
    const complete = events.at(-1);
    expect(complete?.type).toBe("complete");
    if (complete?.type === "complete") {
      expect(complete.full_content).toBe("Streaming to the typed client.");
      expect(complete.finish_reason).toBe("stop");
      expect(Usage.parse(complete.usage).estimated).toBe(false);
    }
    expect(upstream.requests).toHaveLength(1);
  });

  it("reports a model failure as an error event, without calling the model again", async () => {
    const { url, upstream } = await harness({}, { status: 503, errorMessage: "overloaded upstream" });
    const events = await collect({ url }, { message: "fail" });

    expect(events.map((event) => event.type)).toEqual(["start", "error"]);
    const error = ErrorEvent.parse(events[1]);
    expect(error.code).toBe("upstream_error");
    expect(error.retryable).toBe(true);
    // The model server refused the request: nothing was used, nothing is billed.
    expect(error.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, total_cost: 0 });
    expect(upstream.requests).toHaveLength(1);
  });

  it("rejects invalid input with a BAD_REQUEST TRPCClientError and starts no run", async () => {
    const { url, upstream } = await harness();
    const failure = await collect({ url }, { message: "" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TRPCClientError);
    expect((failure as TRPCClientError<never>).data).toMatchObject({ code: "BAD_REQUEST" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("sends long history and messages in the start request body, never in a URL", async () => {
    const { url, upstream, brook } = await harness({}, { text: "I read it all." });
    const seen = recordRequests(brook);
    const history = [
      { role: "user" as const, content: `first question ${"x".repeat(25_000)}` },
      { role: "assistant" as const, content: `first answer ${"y".repeat(25_000)}` },
    ];
    const message = `follow-up ${"z".repeat(20_000)}`;
    const events = await collect({ url }, { message, history, system_prompt: "Remember everything." });

    expect(events.at(-1)?.type).toBe("complete");
    expect(contentOf(events)).toBe("I read it all.");
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.body.messages).toEqual([
      { role: "system", content: "Remember everything." },
      ...history,
      { role: "user", content: message },
    ]);
    expect(seen.some((request) => request.method === "POST" && request.url.startsWith("/trpc/chat.start"))).toBe(true);
    expect(seen.some((request) => request.method === "GET" && request.url.startsWith("/trpc/chat.events"))).toBe(true);
    for (const request of seen) expect(request.url.length).toBeLessThan(1_000);
  });

  it("resumes through a dropped connection with no missing or repeated events and one model call", {
    timeout: 20_000,
  }, async () => {
    const { upstream, proxy } = await harnessBehindProxy({}, { tokens: 40, delayMs: 20 });
    let cut = false;
    const events = await collect({ url: proxy.url() }, { message: "a long answer" }, (event, index) => {
      if (!cut && event.type === "content" && index === 5) {
        cut = true;
        proxy.cutAll();
      }
    });

    expect(cut).toBe(true);
    expect(events[0]?.type).toBe("start");
    expect(events.at(-1)?.type).toBe("complete");
    const chunks = events.filter((event) => event.type === "content").map((event) => event.chunk);
    expect(chunks).toEqual(Array.from({ length: 40 }, (_, i) => (i === 0 ? "tok0" : ` tok${i}`)));
    expect(contentOf(events)).toBe(fakeTokens(40));
    expect(events).toHaveLength(42);
    expect(upstream.requests).toHaveLength(1);
  });

  it("cancels the run on the server when the signal aborts, and stops iterating at once", async () => {
    // The upstream sends two chunks, then waits: only the abort can end this run.
    const { url, upstream, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    const controller = new AbortController();
    const received: ChatEvent[] = [];
    const failure = await collect(
      { url },
      { message: "stop me" },
      (event) => {
        received.push(event);
        if (event.type === "content") controller.abort();
      },
      controller.signal,
    ).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBe(controller.signal.reason);
    expect(received.map((event) => event.type)).toEqual(["start", "content"]);
    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    const run = await serverRun(brook, startOf(received).run_id);
    expect(run?.terminal).toMatchObject({ type: "error", code: "cancelled" });
    expect((await brook.services.stats.snapshot()).requests.cancelled).toBe(1);
  });

  it("stops at once on abort even when more events are already waiting", async () => {
    const { url, brook } = await harness({}, { tokens: 50 });
    const controller = new AbortController();
    const stream = createBrookClient({ url }).streamChat({ message: "fast" }, { signal: controller.signal });
    const first = await stream.next();
    expect(first.value).toMatchObject({ type: "start" });
    // The whole answer arrives (and queues in the client) before the caller reads on.
    await until(() => brook.services.control.activeCount === 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await expect(stream.next()).rejects.toBe(controller.signal.reason);
  });

  it("cancels the run when the caller breaks out of the loop", async () => {
    const { url, upstream, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    for await (const event of createBrookClient({ url }).streamChat({ message: "enough" })) {
      if (event.type === "content") break;
    }
    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    expect((await brook.services.stats.snapshot()).requests.cancelled).toBe(1);
  });

  it("cancels a run whose start was still in flight when the signal aborted", async () => {
    const { url, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    const controller = new AbortController();
    const stream = createBrookClient({ url }).streamChat({ message: "too late" }, { signal: controller.signal });
    const first = stream.next();
    controller.abort();
    await expect(first).rejects.toBe(controller.signal.reason);
    // Far sooner than the grace period (30 s): the client cancelled the run it never saw.
    await until(() => brook.services.store.size > 0 && brook.services.control.activeCount === 0);
    expect((await brook.services.stats.snapshot()).requests.cancelled).toBe(1);
  });

  it("does not start a run when the signal is already aborted", async () => {
    const { url, upstream, brook } = await harness();
    const controller = new AbortController();
    controller.abort();
    await expect(collect({ url }, { message: "never" }, undefined, controller.signal)).rejects.toBe(
      controller.signal.reason,
    );
    expect(upstream.requests).toHaveLength(0);
    expect(brook.services.store.size).toBe(0);
  });

  it("sends custom headers on the start mutation and on every subscription request, reconnects included", {
    timeout: 20_000,
  }, async () => {
    const { brook, proxy } = await harnessBehindProxy({}, { tokens: 40, delayMs: 20 });
    const seen = recordRequests(brook);
    let asked = 0;
    const headers = () => {
      asked += 1;
      return { authorization: "Bearer brook-test", "x-brook-client": "integration" };
    };
    let cut = false;
    const events = await collect({ url: proxy.url(), headers }, { message: "with headers" }, (event, index) => {
      if (!cut && event.type === "content" && index === 3) {
        cut = true;
        proxy.cutAll();
      }
    });
    expect(events.at(-1)?.type).toBe("complete");

    const trpcRequests = seen.filter((request) => request.url.startsWith("/trpc/"));
    const start = trpcRequests.filter((request) => request.url.startsWith("/trpc/chat.start"));
    const subscriptions = trpcRequests.filter((request) => request.url.startsWith("/trpc/chat.events"));
    expect(start).toHaveLength(1);
    expect(subscriptions.length).toBeGreaterThanOrEqual(2);
    for (const request of trpcRequests) {
      expect(request.headers).toMatchObject({ authorization: "Bearer brook-test", "x-brook-client": "integration" });
    }
    // The client's headers are added to EventSource's own, not put in their place.
    for (const request of subscriptions) expect(request.headers.accept).toBe("text/event-stream");
    expect(subscriptions.at(-1)?.headers["last-event-id"]).toMatch(/:\d+$/);
    expect(asked).toBeGreaterThanOrEqual(trpcRequests.length);
  });
});

describe("stopping a run", () => {
  it("cancels the run and reads on to its cancelled event, which carries the usage of the partial answer", async () => {
    // Two chunks, then the upstream waits: only the stop can end this run.
    const { url, upstream, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    const stop = new AbortController();
    const events: ChatEvent[] = [];
    for await (const event of createBrookClient({ url }).streamChat({ message: "stop me" }, { stop: stop.signal })) {
      events.push(event);
      if (contentOf(events) === "tok0 tok1") stop.abort();
    }

    expect(events.map((event) => event.type)).toEqual(["start", "content", "content", "error"]);
    const cancelled = ErrorEvent.parse(events.at(-1));
    expect(cancelled.code).toBe("cancelled");
    // What the user paid for: the prompt and the two chunks streamed before the stop.
    expect(cancelled.usage.input_tokens).toBeGreaterThan(0);
    expect(cancelled.usage.output_tokens).toBeGreaterThan(0);
    expect(cancelled.usage.total_cost).toBeGreaterThan(0);
    await until(() => upstream.abortedCount() === 1);
    expect((await serverRun(brook, startOf(events).run_id))?.terminal).toEqual(cancelled);
  });

  it("cancels a run stopped while it was starting, and still ends with its terminal event", async () => {
    const { url, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    const stop = new AbortController();
    stop.abort();
    const stopped: ChatEvent[] = [];
    for await (const event of createBrookClient({ url }).streamChat({ message: "never mind" }, { stop: stop.signal })) {
      stopped.push(event);
    }
    expect(stopped.at(-1)).toMatchObject({ type: "error", code: "cancelled" });
    await until(() => brook.services.control.activeCount === 0);
  });

  it("gives up waiting for the terminal event after stopTimeoutMs, rejecting with the stop's reason", async () => {
    const { upstream, brook, proxy } = await harnessBehindProxy({}, { tokens: 10, hangAfter: 2 });
    const stop = new AbortController();
    const received: ChatEvent[] = [];
    const stream = createBrookClient({ url: proxy.url() }).streamChat(
      { message: "a stop whose answer is lost" },
      { stop: stop.signal, stopTimeoutMs: 200 },
    );
    const failure = await (async () => {
      for await (const event of stream) {
        received.push(event);
        if (contentOf(received) === "tok0 tok1") {
          // The server's answers stop reaching this client (its requests still reach the server).
          proxy.freezeAll();
          stop.abort(new Error("stopped by the user"));
        }
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBe(stop.signal.reason);
    expect(received.map((event) => event.type)).toEqual(["start", "content", "content"]);
    // The cancel went through: the run ended, and the model call with it.
    await until(() => upstream.abortedCount() === 1);
    // The model server may see its connection close a tick before the run appends its end.
    expect(await serverTerminal(brook, startOf(received).run_id)).toMatchObject({ code: "cancelled" });
  });
});

describe("reading a run by id", () => {
  it("yields each event with its id, and resumes after one without calling the model again", async () => {
    const { url, upstream, brook } = await harness({}, { tokens: 30, delayMs: 10 });
    const client = createBrookClient({ url });
    const runId = await client.startChat({ message: "read me twice" });

    // A first reader takes a few events, then goes away without a word (as a reloaded page does).
    const first: { id: string; event: ChatEvent }[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = client.trpc.chat.events.subscribe(
        { run_id: runId },
        {
          onData: ({ id, data }) => {
            first.push({ id, event: data });
            if (first.length === 5) {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect((await serverRun(brook, runId))?.terminal).toBeUndefined();

    const rest: { id: string; event: ChatEvent }[] = [];
    for await (const tracked of client.readRun(runId, { lastEventId: first.at(-1)?.id as string })) rest.push(tracked);

    const all = [...first, ...rest];
    expect(all.map(({ id }) => id)).toEqual(all.map((_, seq) => `${runId}:${seq}`));
    expect(all[0]?.event).toMatchObject({ type: "start", run_id: runId });
    expect(all.at(-1)?.event.type).toBe("complete");
    expect(contentOf(all.map(({ event }) => event)), "every piece once, in order").toBe(fakeTokens(30));
    expect(upstream.requests).toHaveLength(1);
  });

  it("refuses an event id of another run", async () => {
    const { url } = await harness({}, { tokens: 3 });
    const client = createBrookClient({ url });
    const runId = await client.startChat({ message: "mine" });
    const reading = client.readRun(runId, { lastEventId: "another-run:3" });
    await expect(reading.next()).rejects.toBeInstanceOf(TRPCClientError);
  });
});
