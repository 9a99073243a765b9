import { type Brook, type ConfigInput, createBrook, parseConfig } from "@brook/server";
import { type ChatEvent, readChatEvents, type TerminalEvent } from "@brook/shared";
import { expect, vi } from "vitest";
import { type FakeBehavior, type FakeUpstream, startFakeUpstream } from "./fake-upstream.js";

export type { FakeBehavior };

export interface Harness {
  brook: Brook;
  /** Brook's base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  upstream: FakeUpstream;
  close(): Promise<void>;
}

type Env = { [K in keyof ConfigInput]?: string };

/** A Brook in front of `upstreamUrl`, as the tests configure it: quiet, on loopback, no retries. */
export function startTestBrook(upstreamUrl: string, env: Env = {}): Promise<Brook> {
  return createBrook(
    parseConfig({
      LOG_LEVEL: "silent",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: upstreamUrl,
      OPENAI_MAX_RETRIES: "0",
      HOST: "127.0.0.1",
      // Tests close at once; shutdown tests set their own drain time.
      DRAIN_TIMEOUT_MS: "0",
      ...env,
    }),
  );
}

/** Starts a fake OpenAI-compatible upstream and a Brook in front of it, both on loopback. */
export async function startHarness(env: Env = {}, behavior: FakeBehavior = {}): Promise<Harness> {
  const upstream = await startFakeUpstream(behavior);
  const brook = await startTestBrook(upstream.url, env);
  const url = await brook.listen(0);
  return {
    brook,
    url,
    upstream,
    async close() {
      await brook.close();
      await upstream.close();
    },
  };
}

/** Starts a Brook in demo mode (no upstream at all). */
export async function startDemoBrook(env: Env = {}): Promise<{ brook: Brook; url: string; close(): Promise<void> }> {
  const brook = await createBrook(
    parseConfig({ LOG_LEVEL: "silent", HOST: "127.0.0.1", DEMO_TOKEN_DELAY_MS: "0", DRAIN_TIMEOUT_MS: "0", ...env }),
  );
  const url = await brook.listen(0);
  return { brook, url, close: () => brook.close() };
}

/** POSTs to `/chat/stream` and collects every event (through the shared SSE reader). */
export async function streamEvents(url: string, body: unknown, init: RequestInit = {}): Promise<ChatEvent[]> {
  const response = await fetch(`${url}/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });
  if (response.status !== 200 || response.body === null) {
    throw new Error(`unexpected ${response.status}: ${await response.text()}`);
  }
  const events: ChatEvent[] = [];
  for await (const { event } of readChatEvents(response.body)) events.push(event);
  return events;
}

/**
 * A `POST /chat/stream` read as it goes: its events so far, its end (the events; a failure to
 * connect rejects it), its run's id once the run started, and its events of one type.
 */
export function openChatStream(url: string, body: unknown, init: RequestInit = {}) {
  const events: ChatEvent[] = [];
  const done = (async () => {
    const response = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      ...init,
    });
    if (response.body === null) throw new Error(`no body (${response.status})`);
    for await (const { event } of readChatEvents(response.body)) events.push(event);
    return events;
  })();
  done.catch(() => {});
  const runId = () => {
    const start = events.find((event) => event.type === "start");
    return start?.type === "start" ? start.run_id : "";
  };
  const ofType = <T extends ChatEvent["type"]>(type: T) =>
    events.filter((event): event is Extract<ChatEvent, { type: T }> => event.type === type);
  return { events, done, runId, ofType };
}

/** The text of all content events. */
export function contentOf(events: readonly ChatEvent[]): string {
  return events.map((event) => (event.type === "content" ? event.chunk : "")).join("");
}

/** Waits until `check` returns true (asked every 10 ms, up to `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  await vi.waitFor(async () => expect(await check(), "condition").toBe(true), { timeout: timeoutMs, interval: 10 });
}

/** A run's log on the server, when it still has one (whichever key started it: no caller is named). */
export function serverRun(brook: Brook, runId: string) {
  return brook.services.control.find(runId, undefined);
}

/** Waits for a run's terminal event on the server. */
export async function serverTerminal(brook: Brook, runId: string, timeoutMs = 5_000): Promise<TerminalEvent> {
  let terminal: TerminalEvent | undefined;
  await until(async () => {
    terminal = (await serverRun(brook, runId))?.terminal;
    return terminal !== undefined;
  }, timeoutMs);
  return terminal as TerminalEvent;
}
