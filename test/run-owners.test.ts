/**
 * Runs belong to the API key that started them: another key holder who learns a run id (it
 * travels in events and in the AI SDK's `messageId`) cannot read or cancel the run, on any
 * surface and on any instance, and is told nothing more than for an id that does not exist.
 */
import { createBrookClient } from "@brook/client";
import { ErrorBody, readChatEvents } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { type BrookInstance, startCluster } from "./support/brook-cluster.js";
import { serverRun, until } from "./support/brook-harness.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { trpcFailure } from "./support/trpc-failure.js";
import { readTracked } from "./support/trpc-reader.js";

const keys = { BROOK_API_KEYS: "key-alice,key-bob" };
const alice = "key-alice";
const bob = "key-bob";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** A run that streams two tokens, then waits (until it is cancelled). */
const holding = { tokens: 10, hangAfter: 2 };

function trpc(url: string, apiKey: string) {
  return createBrookClient({ url, apiKey }).trpc;
}

/** Reads `chat.events` of a run as `apiKey`; resolves with the events, rejects with the refusal. */
function readRun(url: string, apiKey: string, runId: string, lastEventId?: string) {
  const reading = readTracked((observer) =>
    trpc(url, apiKey).chat.events.subscribe(
      { run_id: runId, ...(lastEventId === undefined ? {} : { lastEventId }) },
      observer,
    ),
  );
  afterThisTest(() => reading.unsubscribe());
  return reading;
}

/** The refusal of a subscription that must fail before any event. */
async function subscriptionRefusal(reading: ReturnType<typeof readRun>) {
  const error = await trpcFailure(reading.done);
  expect(reading.events).toHaveLength(0);
  return error;
}

/** `GET /chat/stream` resuming `runId` after its first event, as `apiKey`. */
function resumeRest(url: string, apiKey: string, runId: string) {
  return fetch(`${url}/chat/stream?message=ignored`, { headers: { ...bearer(apiKey), "last-event-id": `${runId}:0` } });
}

/** Starts an AI SDK chat as `apiKey` and returns its run id (the stream's `messageId`), the stream left open. */
async function startUiChat(url: string, apiKey: string, chatId: string): Promise<string> {
  const controller = new AbortController();
  afterThisTest(() => controller.abort());
  const response = await fetch(`${url}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(apiKey) },
    body: JSON.stringify({ id: chatId, messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }] }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before its start chunk: ${text}`);
    text += decoder.decode(value, { stream: true });
    const match = /"messageId":"([^"]+)"/.exec(text);
    if (match?.[1] !== undefined) return match[1];
  }
}

describe("runs belong to the key that started them", () => {
  it("tRPC: another key gets not_found for chat.events, chat.stream's resume and chat.cancel; the owner reads and cancels", async () => {
    const { url, upstream, brook } = await harness(keys, holding);
    const { run_id } = await trpc(url, alice).chat.start.mutate({ message: "mine" });

    const events = await subscriptionRefusal(readRun(url, bob, run_id));
    expect(events.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, brook_code: "not_found" });
    // Exactly what an id that does not exist gets.
    const unknown = await subscriptionRefusal(readRun(url, bob, "00000000-0000-4000-8000-000000000000"));
    expect(unknown.data?.brook_code).toBe(events.data?.brook_code);
    const resumed = readTracked((observer) =>
      trpc(url, bob).chat.stream.subscribe({ message: "x", lastEventId: `${run_id}:0` }, observer),
    );
    afterThisTest(() => resumed.unsubscribe());
    expect((await subscriptionRefusal(resumed)).data).toMatchObject({ brook_code: "not_found" });
    const cancel = await trpcFailure(trpc(url, bob).chat.cancel.mutate({ run_id }));
    expect(cancel.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, brook_code: "not_found" });
    expect((await serverRun(brook, run_id))?.terminal).toBeUndefined();

    const reading = readRun(url, alice, run_id);
    await until(() => reading.events.some(({ event }) => event.type === "content"));
    expect(await trpc(url, alice).chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: true });
    expect((await reading.done).at(-1)?.event).toMatchObject({ type: "error", code: "cancelled" });
    // Bob's attempts started no model call.
    expect(upstream.requests).toHaveLength(1);
  });

  it("REST: another key's Last-Event-ID resume of GET /chat/stream is answered as for an unknown run (204)", async () => {
    const { url, upstream } = await harness(keys, holding);
    const { run_id } = await trpc(url, alice).chat.start.mutate({ message: "mine" });
    const foreign = await resumeRest(url, bob, run_id);
    expect(foreign.status).toBe(204);
    expect(await foreign.text()).toBe("");
    expect(upstream.requests).toHaveLength(1);

    const own = await resumeRest(url, alice, run_id);
    expect(own.status).toBe(200);
    // The owner resumes after the event it names; leaving the loop closes the stream.
    for await (const { id } of readChatEvents(own.body as ReadableStream<Uint8Array>)) {
      expect(id).toBe(`${run_id}:1`);
      break;
    }
  });

  it("/api/chat: another key cannot resume or stop the chat, nor read its run by the messageId on tRPC", async () => {
    const { url, upstream } = await harness(keys, holding);
    const runId = await startUiChat(url, alice, "shared-chat-id");
    await until(() => upstream.requests.length === 1);

    expect((await fetch(`${url}/api/chat/shared-chat-id/stream`, { headers: bearer(bob) })).status).toBe(204);
    const stop = await fetch(`${url}/api/chat/shared-chat-id/stop`, { method: "POST", headers: bearer(bob) });
    expect(stop.status).toBe(404);
    expect((await stop.text()).length).toBeGreaterThan(0);
    expect((await subscriptionRefusal(readRun(url, bob, runId))).data).toMatchObject({ brook_code: "not_found" });
    expect((await trpcFailure(trpc(url, bob).chat.cancel.mutate({ run_id: runId }))).data?.brook_code).toBe(
      "not_found",
    );
    expect((await resumeRest(url, bob, runId)).status).toBe(204);

    const own = await fetch(`${url}/api/chat/shared-chat-id/stop`, { method: "POST", headers: bearer(alice) });
    expect(await own.json()).toEqual({ run_id: runId, cancelled: true });
  });

  it("without keys, runs stay open to every caller", async () => {
    const { url } = await harness({}, holding);
    const open = createBrookClient({ url }).trpc;
    const { run_id } = await open.chat.start.mutate({ message: "anyone's" });
    expect(await createBrookClient({ url }).trpc.chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: true });
  });

  it("across instances sharing a Redis: another key gets not_found on the other instance, the owner is served there", async () => {
    const cluster = await startCluster(2, keys, holding);
    afterThisTest(() => cluster.close());
    const [a, b] = cluster.instances as [BrookInstance, BrookInstance];
    const { run_id } = await trpc(a.url, alice).chat.start.mutate({ message: "started on a" });

    expect((await subscriptionRefusal(readRun(b.url, bob, run_id))).data).toMatchObject({ brook_code: "not_found" });
    expect((await trpcFailure(trpc(b.url, bob).chat.cancel.mutate({ run_id }))).data).toMatchObject({
      httpStatus: 404,
      brook_code: "not_found",
    });
    expect((await resumeRest(b.url, bob, run_id)).status).toBe(204);

    // An AI SDK chat started on a: b answers Bob as if there were none.
    const uiRun = await startUiChat(a.url, alice, "chat-on-a");
    expect((await fetch(`${b.url}/api/chat/chat-on-a/stream`, { headers: bearer(bob) })).status).toBe(204);
    expect((await fetch(`${b.url}/api/chat/chat-on-a/stop`, { method: "POST", headers: bearer(bob) })).status).toBe(
      404,
    );
    expect((await subscriptionRefusal(readRun(b.url, bob, uiRun))).data).toMatchObject({ brook_code: "not_found" });

    // Alice reads her run on b, and cancels both from there.
    const reading = readRun(b.url, alice, run_id);
    await until(() => reading.events.some(({ event }) => event.type === "content"));
    expect(await trpc(b.url, alice).chat.cancel.mutate({ run_id })).toEqual({ run_id, cancelled: true });
    expect((await reading.done).at(-1)?.event).toMatchObject({ type: "error", code: "cancelled" });
    const stop = await fetch(`${b.url}/api/chat/chat-on-a/stop`, { method: "POST", headers: bearer(alice) });
    expect(await stop.json()).toEqual({ run_id: uiRun, cancelled: true });
  });
});

describe("statistics and admin keys (BROOK_ADMIN_KEYS)", () => {
  it("lets every key read /stats, and only an admin key reset them (403 forbidden otherwise), on REST and tRPC", async () => {
    const { url } = await harness({ ...keys, BROOK_ADMIN_KEYS: "key-root" });
    expect((await fetch(`${url}/stats`, { headers: bearer(bob) })).status).toBe(200);
    const refused = await fetch(`${url}/reset-stats`, { method: "POST", headers: bearer(bob) });
    expect(refused.status).toBe(403);
    expect(ErrorBody.parse(await refused.json())).toMatchObject({ code: "forbidden", retryable: false });
    expect((await trpcFailure(trpc(url, bob).stats.reset.mutate())).data).toMatchObject({
      code: "FORBIDDEN",
      brook_code: "forbidden",
    });
    // The admin key is an API key too.
    expect((await fetch(`${url}/reset-stats`, { method: "POST", headers: bearer("key-root") })).status).toBe(200);
    expect((await trpc(url, "key-root").stats.reset.mutate()).requests.total).toBe(0);
    expect((await trpc(url, "key-root").chat.complete.mutate({ message: "hi" })).response).toBeTypeOf("string");
  });

  it("without admin keys, no key resets the statistics; without any key, anyone does", async () => {
    const keyed = await harness(keys);
    expect((await fetch(`${keyed.url}/reset-stats`, { method: "POST", headers: bearer(alice) })).status).toBe(403);
    const open = await harness();
    expect((await fetch(`${open.url}/reset-stats`, { method: "POST" })).status).toBe(200);
  });
});
