import { type AppRouter, createBrookClient } from "@brook/client";
import { ChatResult, type ErrorEvent, Health, Stats, Usage } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { serverRun, serverTerminal, until } from "./support/brook-harness.js";
import { afterThisTest, harness, harnessBehindProxy } from "./support/per-test.js";
import { fakeTokens, type Reading, readTracked, type TrackedEvent, trackedContent } from "./support/trpc-reader.js";

function client(url: string) {
  return createBrookClient({ url }).trpc;
}

/** Unsubscribes the reading after the test, before its server closes. */
function later(reading: Reading): Reading {
  afterThisTest(() => reading.unsubscribe());
  return reading;
}

async function trpcError(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

/** The seqs are 0, 1, 2, … with no gap and no duplicate, all of one run. */
function expectWholeRun(events: readonly TrackedEvent[]): void {
  const runId = events[0]?.runId;
  expect(events.map((event) => event.id)).toEqual(events.map((_, seq) => `${runId}:${seq}`));
}

describe("tRPC health and stats", () => {
  it("health answers the typed Health", async () => {
    const { url } = await harness();
    const health = await client(url).health.query();
    expect(Health.parse(health)).toEqual(health);
    expect(health).toMatchObject({ status: "ok", streaming: true, mode: "openai", active_runs: 0 });
  });

  it("stats.get counts finished runs and stats.reset zeroes them", async () => {
    const { url } = await harness({}, { text: "Counted answer." });
    const trpc = client(url);
    await trpc.chat.complete.mutate({ message: "count me" });

    const stats = await trpc.stats.get.query();
    expect(Stats.parse(stats)).toEqual(stats);
    expect(stats.requests).toEqual({
      total: 1,
      streaming: 0,
      non_streaming: 1,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
    });
    expect(stats.tokens.input).toBeGreaterThan(0);
    expect(stats.tokens.output).toBeGreaterThan(0);

    const reset = await trpc.stats.reset.mutate();
    expect(reset.requests.total).toBe(0);
    expect(reset.tokens).toEqual({ input: 0, output: 0, total: 0, cached_input: 0, reasoning: 0 });
    expect(Date.parse(reset.since)).toBeGreaterThanOrEqual(Date.parse(stats.since));
    expect((await trpc.stats.get.query()).requests.total).toBe(0);
  });
});

describe("tRPC chat.complete", () => {
  it("returns the whole answer as a ChatResult", async () => {
    const { url, upstream } = await harness({}, { text: "The whole answer, at once." });
    const result = await client(url).chat.complete.mutate({ message: "hello", system_prompt: "Be brief." });
    expect(ChatResult.parse(result)).toEqual(result);
    expect(result.response).toBe("The whole answer, at once.");
    expect(result.finish_reason).toBe("stop");
    expect(result.run_id).not.toBe("");
    // The fake upstream reported usage: one output token per chunk.
    expect(result.usage).toMatchObject({ output_tokens: 5, estimated: false });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello" },
    ]);
  });

  it("passes the sampling options on, from chat.complete and chat.stream", async () => {
    const { url, upstream } = await harness();
    const trpc = client(url);
    const sampling = { top_p: 0.8, presence_penalty: 1, frequency_penalty: 0.5, seed: 5, stop: ["END"] };
    await trpc.chat.complete.mutate({ message: "hi", ...sampling });
    expect(upstream.requests.at(-1)?.body).toMatchObject(sampling);

    const events = [];
    for await (const event of createBrookClient({ url }).streamChat({ message: "hi", top_p: 0.3, stop: "." })) {
      events.push(event);
    }
    expect(events.at(-1)?.type).toBe("complete");
    expect(upstream.requests.at(-1)?.body).toMatchObject({ top_p: 0.3, stop: ["."] });
  });

  it("turns an upstream failure into a TRPCClientError with brook_code and usage", async () => {
    const { url, upstream } = await harness({}, { status: 500, errorMessage: "model exploded" });
    const error = await trpcError(client(url).chat.complete.mutate({ message: "fail please" }));
    expect(error.data?.code).toBe("BAD_GATEWAY");
    expect(error.data?.brook_code).toBe("upstream_error");
    expect(error.data?.retryable).toBe(true);
    expect(error.message).toContain("HTTP 500");
    const usage = Usage.parse(error.data?.usage);
    expect(usage).toMatchObject({ input_tokens: 0, output_tokens: 0, total_cost: 0 });
    expect(upstream.requests).toHaveLength(1);
  });

  it("answers invalid input with BAD_REQUEST naming the field", async () => {
    const { url, upstream } = await harness();
    const trpc = client(url);

    const blank = await trpcError(trpc.chat.complete.mutate({ message: "   " }));
    expect(blank.data?.code).toBe("BAD_REQUEST");
    expect(blank.data?.httpStatus).toBe(400);
    expect(blank.data?.brook_code).toBe("bad_request");
    expect(blank.data?.fields?.message?.[0]).toContain("message");

    const hot = await trpcError(trpc.chat.complete.mutate({ message: "hi", temperature: 7 }));
    expect(hot.data?.code).toBe("BAD_REQUEST");
    expect(Object.keys(hot.data?.fields ?? {})).toEqual(["temperature"]);

    expect(upstream.requests).toHaveLength(0);
  });

  it("ignores impossible upstream usage and counts the tokens itself", async () => {
    const { url } = await harness(
      {},
      { text: "three small words", usage: { prompt_tokens: -3, completion_tokens: 1 } },
    );
    const result = await client(url).chat.complete.mutate({ message: "count" });
    expect(result.response).toBe("three small words");
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.input_tokens).toBeGreaterThan(0);
    expect(result.usage.output_tokens).toBe(3);
  });
});

describe("tRPC chat.stream", () => {
  it("yields tracked events <run_id>:<seq> and ends with a normal return", async () => {
    const { url, upstream } = await harness({}, { tokens: 5 });
    const reading = later(readTracked((observer) => client(url).chat.stream.subscribe({ message: "go" }, observer)));
    const events = await reading.done;

    const start = events[0]?.event;
    expect(start?.type).toBe("start");
    const runId = start?.type === "start" ? start.run_id : "";
    expect(events.map((event) => event.id)).toEqual(events.map((_, seq) => `${runId}:${seq}`));
    expect(events.map(({ event }) => event.type)).toEqual([
      "start",
      "content",
      "content",
      "content",
      "content",
      "content",
      "complete",
    ]);
    expect(trackedContent(events)).toBe(fakeTokens(5));
    // onComplete came from the server's return event, not from a reconnect or an error.
    expect(reading.stopped).toBe(true);
    expect(reading.started).toBe(1);
    expect(upstream.requests).toHaveLength(1);
  });

  it("reconnects by itself after a dropped connection and resumes without gaps or a second model call", {
    timeout: 20_000,
  }, async () => {
    const { upstream, proxy } = await harnessBehindProxy({}, { tokens: 40, delayMs: 20 });
    let cut = false;
    const reading = later(
      readTracked(
        (observer) => client(proxy.url()).chat.stream.subscribe({ message: "a long answer" }, observer),
        (event) => {
          if (!cut && event.seq === 5) {
            cut = true;
            proxy.cutAll();
          }
        },
      ),
    );
    const events = await reading.done;

    expect(cut).toBe(true);
    expect(reading.started).toBeGreaterThanOrEqual(2);
    expectWholeRun(events);
    expect(events.at(-1)?.event.type).toBe("complete");
    expect(trackedContent(events)).toBe(fakeTokens(40));
    expect(upstream.requests).toHaveLength(1);
  });

  it("rejects resuming a run that does not exist with NOT_FOUND", async () => {
    const { url, upstream } = await harness();
    const reading = later(
      readTracked((observer) =>
        client(url).chat.stream.subscribe({ message: "hi", lastEventId: "no-such-run:3" }, observer),
      ),
    );
    const error = await trpcError(reading.done);
    expect(error.data?.code).toBe("NOT_FOUND");
    expect(reading.events).toEqual([]);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("tRPC chat.start and chat.events", () => {
  it("resumes after lastEventId with exactly the later events", async () => {
    const { url, upstream } = await harness({}, { tokens: 6 });
    const trpc = client(url);
    const { run_id } = await trpc.chat.start.mutate({ message: "start me" });
    const all = await later(readTracked((observer) => trpc.chat.events.subscribe({ run_id }, observer))).done;
    expectWholeRun(all);
    expect(all).toHaveLength(8);
    expect(all[0]?.runId).toBe(run_id);

    for (const k of [0, 3, 6]) {
      const resumed = await later(
        readTracked((observer) => trpc.chat.events.subscribe({ run_id, lastEventId: `${run_id}:${k}` }, observer)),
      ).done;
      expect(resumed).toEqual(all.slice(k + 1));
    }
    // After the terminal event there is nothing left: the subscription returns at once.
    const after = later(
      readTracked((observer) => trpc.chat.events.subscribe({ run_id, lastEventId: `${run_id}:7` }, observer)),
    );
    expect(await after.done).toEqual([]);
    expect(after.stopped).toBe(true);
    expect(upstream.requests).toHaveLength(1);
  });

  it("rejects a lastEventId of another run with BAD_REQUEST", async () => {
    const { url } = await harness({}, { tokens: 2 });
    const trpc = client(url);
    const { run_id } = await trpc.chat.start.mutate({ message: "mine" });
    const reading = later(
      readTracked((observer) => trpc.chat.events.subscribe({ run_id, lastEventId: "other-run:1" }, observer)),
    );
    expect((await trpcError(reading.done)).data?.code).toBe("BAD_REQUEST");
  });

  it("answers NOT_FOUND, without reconnecting, when the events asked for are no longer kept", async () => {
    // A small buffer: a reader that keeps up lets the run drop the events it has read.
    const { url, upstream } = await harness({ RUN_BUFFER_EVENTS: "16" }, { tokens: 200 });
    const trpc = client(url);
    const { run_id } = await trpc.chat.start.mutate({ message: "long" });
    const all = await later(readTracked((observer) => trpc.chat.events.subscribe({ run_id }, observer))).done;
    expect(all).toHaveLength(202);

    const late = later(readTracked((observer) => trpc.chat.events.subscribe({ run_id }, observer)));
    const error = await trpcError(late.done);
    expect(error.data?.code).toBe("NOT_FOUND");
    expect(error.data?.brook_code).toBe("not_found");
    expect(late.events).toEqual([]);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("tRPC chat.cancel", () => {
  it("aborts the upstream call and ends the stream with a cancelled error carrying usage", async () => {
    // The upstream stops after two chunks and waits: only a cancel can end this run.
    const { url, upstream, brook } = await harness({}, { tokens: 10, hangAfter: 2 });
    const trpc = client(url);
    const { run_id } = await trpc.chat.start.mutate({ message: "cancel me" });
    let cancelled: Promise<{ run_id: string; cancelled: boolean }> | undefined;
    const reading = later(
      readTracked(
        (observer) => trpc.chat.events.subscribe({ run_id }, observer),
        (event) => {
          if (event.seq === 2) cancelled = trpc.chat.cancel.mutate({ run_id });
        },
      ),
    );
    const events = await reading.done;

    expect(await cancelled).toEqual({ run_id, cancelled: true });
    expectWholeRun(events);
    expect(events.map(({ event }) => event.type)).toEqual(["start", "content", "content", "error"]);
    const terminal = events.at(-1)?.event as ErrorEvent;
    expect(terminal.code).toBe("cancelled");
    expect(terminal.retryable).toBe(false);
    expect(Usage.parse(terminal.usage).output_tokens).toBeGreaterThan(0);
    expect(reading.stopped).toBe(true);

    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    const stats = await trpc.stats.get.query();
    expect(stats.requests).toMatchObject({ total: 1, cancelled: 1, failed: 0, succeeded: 0 });
    expect(upstream.requests).toHaveLength(1);
  });

  it("estimates the prompt of a run cancelled while the model server was still reading it", async () => {
    const { url, upstream, brook } = await harness({}, { hang: true });
    const trpc = client(url);
    const { run_id } = await trpc.chat.start.mutate({ message: "a long prompt the server is still reading" });
    await until(() => upstream.requests.length === 1);
    await trpc.chat.cancel.mutate({ run_id });
    const terminal = await serverTerminal(brook, run_id);
    expect(terminal).toMatchObject({ type: "error", code: "cancelled" });
    expect(terminal?.usage).toMatchObject({ estimated: true, output_tokens: 0 });
    expect(terminal?.usage.input_tokens).toBeGreaterThan(0);
  });

  it("answers NOT_FOUND for an unknown run and cancelled: false for a finished one", async () => {
    const { url, brook } = await harness({}, { tokens: 2 });
    const trpc = client(url);
    const unknown = await trpcError(trpc.chat.cancel.mutate({ run_id: "no-such-run" }));
    expect(unknown.data?.code).toBe("NOT_FOUND");
    expect(unknown.data?.brook_code).toBe("not_found");

    const { run_id } = await trpc.chat.start.mutate({ message: "done already" });
    await serverTerminal(brook, run_id);
    expect(await trpc.chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: false });
  });

  it("forgets non-streaming runs once answered: they belong to their request", async () => {
    const { url } = await harness({}, { tokens: 2 });
    const trpc = client(url);
    const { run_id } = await trpc.chat.complete.mutate({ message: "one shot" });
    const gone = await trpcError(trpc.chat.cancel.mutate({ run_id }));
    expect(gone.data?.code).toBe("NOT_FOUND");
  });
});

describe("tRPC runs whose readers leave", () => {
  it("aborts a run after RUN_GRACE_MS when all its readers left", async () => {
    const { url, upstream, brook } = await harness({ RUN_GRACE_MS: "200" }, { tokens: 10, hangAfter: 2 });
    const trpc = client(url);
    let runId = "";
    const reading = later(
      readTracked(
        (observer) => trpc.chat.stream.subscribe({ message: "leave me" }, observer),
        (event, self) => {
          runId = event.runId;
          if (event.seq === 1) self.unsubscribe();
        },
      ),
    );
    await until(() => reading.events.length >= 2);

    await until(() => upstream.abortedCount() === 1);
    await until(() => brook.services.control.activeCount === 0);
    const terminal = (await serverRun(brook, runId))?.terminal;
    expect(terminal).toMatchObject({ type: "error", code: "cancelled" });
    expect((await trpc.stats.get.query()).requests.cancelled).toBe(1);
  });

  it("lets a reader that comes back within the grace period resume, and the run completes", async () => {
    const { url, upstream, brook } = await harness({ RUN_GRACE_MS: "10000" }, { tokens: 30, delayMs: 10 });
    const trpc = client(url);
    const first = later(
      readTracked(
        (observer) => trpc.chat.stream.subscribe({ message: "I will be back" }, observer),
        (event, self) => {
          if (event.seq === 3) self.unsubscribe();
        },
      ),
    );
    await until(() => first.events.length >= 4);
    const last = first.events.at(-1) as TrackedEvent;
    const run = await serverRun(brook, last.runId);
    // The server has seen the reader go: the run is now in its grace period.
    await until(() => run?.readerCount === 0);

    const second = later(
      readTracked((observer) => trpc.chat.events.subscribe({ run_id: last.runId, lastEventId: last.id }, observer)),
    );
    const rest = await second.done;
    const events = [...first.events, ...rest];
    expectWholeRun(events);
    expect(events.at(-1)?.event.type).toBe("complete");
    expect(trackedContent(events)).toBe(fakeTokens(30));
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.abortedCount()).toBe(0);
  });
});

describe("tRPC wire format", () => {
  it("is plain JSON, readable without a tRPC client or transformer", async () => {
    const { url } = await harness({}, { text: "Plain answer." });
    const health = await fetch(`${url}/trpc/health`);
    expect(health.status).toBe(200);
    const healthBody = (await health.json()) as { result: { data: unknown } };
    expect(Object.keys(healthBody)).toEqual(["result"]);
    expect(Health.parse(healthBody.result.data)).toMatchObject({ status: "ok", streaming: true });

    const complete = await fetch(`${url}/trpc/chat.complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "plain, please" }),
    });
    expect(complete.status).toBe(200);
    const completeBody = (await complete.json()) as { result: { data: unknown } };
    expect(ChatResult.parse(completeBody.result.data).response).toBe("Plain answer.");
  });
});
