import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBrookClient } from "@brook/client";
import type { Brook } from "@brook/server";
import { type ChatEvent, Health, Stats } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import OpenAI from "openai";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { contentOf, startTestBrook, streamEvents } from "./support/brook-harness.js";
import { type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";
import { freePort } from "./support/free-port.js";
import { afterThisTest } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

/** The three model servers of every test: one failing with 503, one slow to its first token, one healthy. */
interface Upstreams {
  failing: FakeUpstream;
  slow: FakeUpstream;
  healthy: FakeUpstream;
}

let upstreams: Upstreams;

beforeEach(async () => {
  const failing = await startFakeUpstream({ status: 503, errorMessage: "overloaded" });
  const slow = await startFakeUpstream({ firstChunkDelayMs: 30_000, text: "Slow answer." });
  const healthy = await startFakeUpstream({ text: "Healthy answer." });
  upstreams = { failing, slow, healthy };
  afterThisTest(async () => {
    await Promise.all([failing.close(), slow.close(), healthy.close()]);
  });
});

type Entry = Record<string, unknown>;

/** A Brook with a MODELS file of `models`; closed after the test. */
async function brookWith(models: Entry[], env: Record<string, string> = {}): Promise<{ brook: Brook; url: string }> {
  const dir = await mkdtemp(join(tmpdir(), "brook-models-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "models.json");
  await writeFile(file, JSON.stringify({ models }));
  const brook = await startTestBrook(upstreams.healthy.url, {
    MODELS: file,
    FALLBACK_TIMEOUT_MS: "300",
    FIRST_TOKEN_TIMEOUT_MS: "5000",
    ...env,
  });
  const url = await brook.listen(0);
  afterThisTest(() => brook.close());
  return { brook, url };
}

const entry = (name: string, server: FakeUpstream, model: string, more: Entry = {}): Entry => ({
  name,
  base_url: server.url,
  api_key: "sk-inline-secret",
  model,
  ...more,
});

function terminalOf(events: readonly ChatEvent[]) {
  const terminal = events.at(-1);
  if (terminal?.type !== "complete" && terminal?.type !== "error") throw new Error("no terminal event");
  return terminal;
}

async function health(url: string): Promise<Health> {
  return Health.parse(await (await fetch(`${url}/health`)).json());
}

describe("routing by model name", () => {
  it("sends each name to its server as its upstream id; none named: the first entry", async () => {
    // Only the fields every entry needs.
    const { url } = await brookWith([
      { name: "main", base_url: upstreams.healthy.url, api_key: "k", model: "upstream-main", fallbacks: [] },
      { name: "second", base_url: upstreams.healthy.url, api_key: "k", model: "upstream-second", fallbacks: [] },
    ]);
    const first = await streamEvents(url, { message: "hi" });
    expect(first[0]).toMatchObject({ type: "start", model: "main" });
    expect(contentOf(first)).toBe("Healthy answer.");
    const second = await streamEvents(url, { message: "hi", model: "second" });
    expect(second[0]).toMatchObject({ type: "start", model: "second" });
    expect(terminalOf(second)).toMatchObject({ type: "complete" });
    expect(terminalOf(second)).not.toHaveProperty("model");
    expect(upstreams.healthy.requests.map((request) => request.body.model)).toEqual([
      "upstream-main",
      "upstream-second",
    ]);
  });

  it("sends an entry's own headers and key to its server with every streamed request", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.healthy, "m", { headers: { "X-Team": "search", "OpenAI-Project": "proj_1" } }),
    ]);
    expect(terminalOf(await streamEvents(url, { message: "hi" }))).toMatchObject({ type: "complete" });
    const sent = upstreams.healthy.requests.at(-1)?.headers;
    expect(sent?.["x-team"]).toBe("search");
    expect(sent?.["openai-project"]).toBe("proj_1");
    expect(sent?.authorization).toBe("Bearer sk-inline-secret");
  });

  it("refuses an unknown model with a 400 naming it and the known ones, on REST, tRPC, /v1 and /api/chat", async () => {
    const { url } = await brookWith([entry("main", upstreams.healthy, "m"), entry("second", upstreams.healthy, "s")]);
    const rest = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", model: "nope" }),
    });
    expect(rest.status).toBe(400);
    const body = (await rest.json()) as { code: string; error: string; fields: Record<string, string[]> };
    expect(body.code).toBe("bad_request");
    expect(body.error).toContain('"nope"');
    expect(body.fields.model?.[0]).toMatch(/unknown model "nope"; known models: main, second/);

    const trpc = createBrookClient({ url }).trpc;
    const refused = await trpc.chat.complete.mutate({ message: "hi", model: "nope" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).message).toMatch(/"nope".*"main", "second"/);

    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const error = await openai.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/"nope"/);

    const chat = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: "chat-1",
        messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "hi" }] }],
        brook: { model: "nope" },
      }),
    });
    expect(chat.status).toBe(400);
    expect(await chat.text()).toContain('"nope"');
    expect(upstreams.healthy.requests).toHaveLength(0);
  });

  it("lists the models at /v1/models and in /health, with each deployment and no key", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.healthy, "m", { fallbacks: ["backup"] }),
      entry("main", upstreams.slow, "m"),
      entry("backup", upstreams.healthy, "b"),
    ]);
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused" });
    expect((await openai.models.list()).data.map((model) => model.id)).toEqual(["main", "backup"]);
    const status = await health(url);
    expect(status.model).toBe("main");
    expect(status.models).toEqual(["main", "backup"]);
    expect(status.deployments?.map((deployment) => deployment.deployment)).toEqual(["main#1", "main#2", "backup#1"]);
    expect(status.deployments?.[0]).toMatchObject({
      model: "main",
      usable: true,
      in_flight: 0,
      cooling_down_until: null,
    });
    const text = await (await fetch(`${url}/health`)).text();
    expect(text).not.toContain("sk-inline-secret");
  });
});

describe("balancing the deployments of one name", () => {
  it("takes turns when they are equally busy", async () => {
    const { url } = await brookWith([
      entry("pair", upstreams.healthy, "left"),
      entry("pair", upstreams.healthy, "right"),
    ]);
    for (let index = 0; index < 4; index += 1) await streamEvents(url, { message: "hi" });
    expect(upstreams.healthy.requests.map((request) => request.body.model).sort()).toEqual([
      "left",
      "left",
      "right",
      "right",
    ]);
  });

  it("gives the next request to the less busy one", async () => {
    const { url } = await brookWith([entry("pair", upstreams.slow, "busy"), entry("pair", upstreams.healthy, "free")], {
      FALLBACK_TIMEOUT_MS: "0",
      FIRST_TOKEN_TIMEOUT_MS: "0",
    });
    // Whichever the first request got, it stays busy; the others go to the other one.
    upstreams.healthy.setBehavior({ hang: true });
    const held = new AbortController();
    afterThisTest(() => held.abort());
    const first = fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hold" }),
      signal: held.signal,
    }).catch(() => undefined);
    await first;
    await expect.poll(() => upstreams.slow.requests.length + upstreams.healthy.requests.length).toBe(1);
    const busy = upstreams.slow.requests.length === 1 ? upstreams.slow : upstreams.healthy;
    const free = busy === upstreams.slow ? upstreams.healthy : upstreams.slow;
    free.setBehavior({ text: "Free." });
    await streamEvents(url, { message: "next" });
    await streamEvents(url, { message: "and next" });
    expect(busy.requests).toHaveLength(1);
    expect(free.requests).toHaveLength(2);
  });
});

describe("fallbacks before the first token", () => {
  it("moves on from a 503 to another deployment, then to the fallback, and cools the failed one down", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.failing, "m", { fallbacks: ["backup"] }),
      entry("backup", upstreams.healthy, "b"),
    ]);
    const events = await streamEvents(url, { message: "hi" });
    expect(events[0]).toMatchObject({ type: "start", model: "main" });
    expect(contentOf(events)).toBe("Healthy answer.");
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    expect(upstreams.failing.requests).toHaveLength(1);

    const status = await health(url);
    const failed = status.deployments?.find((deployment) => deployment.deployment === "main#1");
    expect(failed).toMatchObject({ usable: false, attempts: 1, failures: 1 });
    expect(failed?.last_error).toMatchObject({ code: "upstream_error" });
    expect(failed?.cooling_down_until).not.toBeNull();
    // The default model has no usable deployment: the balancer should send traffic elsewhere.
    expect(status.ready).toBe(false);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);

    // While it cools down, requests go straight to the fallback.
    await streamEvents(url, { message: "again" });
    expect(upstreams.failing.requests).toHaveLength(1);
    expect(upstreams.healthy.requests).toHaveLength(2);
  });

  it("names the fallback that answered in POST /chat and in /v1's completion", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.failing, "m", { fallbacks: ["backup"] }),
      entry("backup", upstreams.healthy, "b"),
    ]);
    const rest = await fetch(`${url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(await rest.json()).toMatchObject({ response: "Healthy answer.", model: "backup" });
    // Cooling down now: the next request goes to the fallback at once.
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "main",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.model).toBe("backup");
    expect(completion.choices[0]?.message.content).toBe("Healthy answer.");
  });

  it("cools a failed deployment down for MODEL_COOLDOWN_MS, then tries it again, and it recovers", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    afterThisTest(() => vi.useRealTimers());
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const { url } = await brookWith(
      [entry("main", upstreams.failing, "m", { fallbacks: ["backup"] }), entry("backup", upstreams.healthy, "b")],
      { MODEL_COOLDOWN_MS: "60000" },
    );
    expect(terminalOf(await streamEvents(url, { message: "one" }))).toMatchObject({ model: "backup" });
    const main = async () => (await health(url)).deployments?.find((deployment) => deployment.deployment === "main#1");
    expect((await main())?.cooling_down_until).toBe("2026-01-01T00:01:00.000Z");

    // Still cooling a second before it ends: not asked.
    vi.setSystemTime(new Date("2026-01-01T00:00:59Z"));
    await streamEvents(url, { message: "two" });
    expect(upstreams.failing.requests).toHaveLength(1);

    // Cooled down, and answering again: asked first, and usable.
    upstreams.failing.setBehavior({ text: "Main again." });
    vi.setSystemTime(new Date("2026-01-01T00:01:00Z"));
    const three = await streamEvents(url, { message: "three" });
    expect(contentOf(three)).toBe("Main again.");
    expect(terminalOf(three)).not.toHaveProperty("model");
    expect(upstreams.failing.requests).toHaveLength(2);
    expect(await main()).toMatchObject({ usable: true, cooling_down_until: null, attempts: 2, failures: 1 });
    expect((await health(url)).ready).toBe(true);
  });

  it("moves on after a 429 and cools down for the Retry-After it sent", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.failing, "m", { fallbacks: ["backup"] }),
      entry("backup", upstreams.healthy, "b"),
    ]);
    upstreams.failing.enqueue({ status: 429, retryAfterSeconds: 120 });
    const before = Date.now();
    const events = await streamEvents(url, { message: "hi" });
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    const failed = (await health(url)).deployments?.find((deployment) => deployment.deployment === "main#1");
    expect(failed?.last_error?.code).toBe("upstream_rate_limited");
    const until = Date.parse(failed?.cooling_down_until ?? "");
    expect(until).toBeGreaterThanOrEqual(before + 119_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it("moves on when the server stopped listening (connection refused)", async () => {
    const gone = await startFakeUpstream();
    const { url } = await brookWith([
      { name: "main", base_url: gone.url, model: "m", fallbacks: ["backup"] },
      entry("backup", upstreams.healthy, "b"),
    ]);
    const main = async () => (await health(url)).deployments?.find((deployment) => deployment.deployment === "main#1");
    await expect.poll(async () => (await main())?.server.status).toBe("ok");
    await gone.close();
    const events = await streamEvents(url, { message: "hi" });
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    expect(await main()).toMatchObject({
      usable: false,
      last_error: { code: "upstream_unreachable" },
      server: { status: "unreachable" },
    });
  });

  it("passes over a deployment its background check finds unreachable", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}/v1`;
    const { url } = await brookWith([
      { name: "main", base_url: nowhere, model: "m", fallbacks: ["backup"] },
      entry("backup", upstreams.healthy, "b"),
    ]);
    await expect
      .poll(
        async () => (await health(url)).deployments?.find((deployment) => deployment.model === "main")?.server.status,
      )
      .toBe("unreachable");
    const events = await streamEvents(url, { message: "hi" });
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    expect((await health(url)).deployments?.[0]?.attempts).toBe(0);
  });

  it("moves on from a server slow to its first token after FALLBACK_TIMEOUT_MS, and closes that call", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.slow, "m", { fallbacks: ["backup"] }),
      entry("backup", upstreams.healthy, "b"),
    ]);
    const started = performance.now();
    const events = await streamEvents(url, { message: "hi" });
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    expect(performance.now() - started).toBeLessThan(4_000);
    await upstreams.slow.waitIdle();
    expect(upstreams.slow.abortedCount()).toBe(1);
    const failed = (await health(url)).deployments?.find((deployment) => deployment.deployment === "main#1");
    expect(failed?.last_error).toMatchObject({ code: "timeout" });
    expect(failed?.last_error?.message).toContain("FALLBACK_TIMEOUT_MS");
  });

  it("passes over a deployment at its max_concurrent", async () => {
    const { url } = await brookWith(
      [
        entry("main", upstreams.slow, "m", { max_concurrent: 1, fallbacks: ["backup"] }),
        entry("backup", upstreams.healthy, "b"),
      ],
      { FALLBACK_TIMEOUT_MS: "0", FIRST_TOKEN_TIMEOUT_MS: "0" },
    );
    upstreams.slow.setBehavior({ hang: true });
    const held = new AbortController();
    afterThisTest(() => held.abort());
    void fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hold" }),
      signal: held.signal,
    }).catch(() => undefined);
    await expect.poll(() => upstreams.slow.requests.length).toBe(1);
    const events = await streamEvents(url, { message: "hi" });
    expect(terminalOf(events)).toMatchObject({ type: "complete", model: "backup" });
    expect(upstreams.slow.requests).toHaveLength(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('brook_model_attempts_total{model="main",deployment="main#1",outcome="skipped"} 1');
  });

  it("never falls back once a token was sent: the run ends with the error as before", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.healthy, "m", { fallbacks: ["backup"] }),
      entry("backup", upstreams.slow, "b"),
    ]);
    const events = await streamEvents(url, { message: `hi ${fake({ tokens: 5, cutAfter: 2 })}` });
    expect(contentOf(events)).toMatch(/^tok0 tok1/);
    expect(terminalOf(events)).toMatchObject({ type: "error", code: "upstream_incomplete" });
    expect(upstreams.slow.requests).toHaveLength(0);
  });

  it("all down: one upstream_unavailable error naming each, within the first-token timeout", async () => {
    const { url } = await brookWith(
      [entry("main", upstreams.failing, "m", { fallbacks: ["backup"] }), entry("backup", upstreams.slow, "b")],
      { FIRST_TOKEN_TIMEOUT_MS: "1500", FALLBACK_TIMEOUT_MS: "300" },
    );
    const started = performance.now();
    const events = await streamEvents(url, { message: "hi" });
    // Never a hang: the 1.5 s budget, plus the first local token count on a busy machine.
    expect(performance.now() - started).toBeLessThan(10_000);
    // The slow server's call was given up on and closed.
    await upstreams.slow.waitIdle();
    expect(upstreams.slow.abortedCount()).toBe(1);
    expect(events.filter((event) => event.type === "error" || event.type === "complete")).toHaveLength(1);
    const terminal = terminalOf(events);
    expect(terminal).toMatchObject({ type: "error", code: "upstream_unavailable", retryable: true });
    if (terminal.type !== "error") throw new Error("not an error");
    expect(terminal.error).toContain("main#1: upstream_error");
    expect(terminal.error).toContain("backup#1: timeout");
    // The slow server had taken the call it was then given up on: its prompt may be billed, so it is estimated.
    expect(terminal.usage).toMatchObject({ output_tokens: 0, estimated: true });
    expect(terminal.usage.input_tokens).toBeGreaterThan(0);
  });
});

describe("one model server (OPENAI_* without MODELS)", () => {
  it("is one model and one deployment; a failure ends the run with its own error and cools nothing down", async () => {
    const brook = await startTestBrook(upstreams.failing.url);
    afterThisTest(() => brook.close());
    const url = await brook.listen(0);
    const terminal = terminalOf(await streamEvents(url, { message: "hi" }));
    expect(terminal).toMatchObject({ type: "error", code: "upstream_error" });
    const status = await health(url);
    expect(status.models).toEqual(["gpt-4o-mini"]);
    expect(status.deployments?.[0]).toMatchObject({
      deployment: "gpt-4o-mini#1",
      failures: 1,
      cooling_down_until: null,
    });
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    // Any model name still goes to that server, as it is named.
    upstreams.failing.setBehavior({ text: "Back." });
    const events = await streamEvents(url, { message: "hi", model: "some-other-model" });
    expect(contentOf(events)).toBe("Back.");
    expect(upstreams.failing.requests.at(-1)?.body.model).toBe("some-other-model");
  });
});

describe("usage, cost and statistics per model", () => {
  it("prices an answer at the model that answered, and counts it under that model and deployment", async () => {
    const { url } = await brookWith([
      entry("main", upstreams.failing, "m", {
        fallbacks: ["backup"],
        prices: { input_per_mtok: 1000, output_per_mtok: 1000 },
      }),
      entry("backup", upstreams.healthy, "b", { prices: { input_per_mtok: 1, output_per_mtok: 2 } }),
    ]);
    upstreams.healthy.setBehavior({
      text: "Priced.",
      usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 },
    });
    const terminal = terminalOf(await streamEvents(url, { message: "hi" }));
    expect(terminal).toMatchObject({ type: "complete", model: "backup" });
    expect(terminal.usage).toMatchObject({
      input_tokens: 1_000_000,
      output_tokens: 1_000_000,
      total_cost: 3,
      priced: true,
    });

    const stats = Stats.parse(await (await fetch(`${url}/stats`)).json());
    expect(Object.keys(stats.models)).toEqual(["backup"]);
    expect(stats.models.backup).toMatchObject({ requests: 1, total_cost: 3 });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'brook_model_attempts_total{model="main",deployment="main#1",outcome="failed",code="upstream_error"} 1',
    );
    expect(metrics).toContain('brook_model_attempts_total{model="backup",deployment="backup#1",outcome="answered"} 1');
    expect(metrics).toContain('brook_model_fallbacks_total{asked="main",model="backup"} 1');
    expect(metrics).toContain('brook_model_requests_total{model="backup"} 1');
    expect(metrics).toContain('brook_deployment_usable{model="main",deployment="main#1"} 0');
  });
});

describe("the MODELS file at start-up", () => {
  async function refusal(models: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "brook-models-"));
    afterThisTest(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "models.json");
    await writeFile(file, JSON.stringify(models));
    const error = await startTestBrook(upstreams.healthy.url, { MODELS: file }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("ConfigError");
    return (error as Error).message;
  }

  it("names each problem on its own line, and never the key", async () => {
    const message = await refusal({
      models: [
        { name: "a", base_url: upstreams.healthy.url, api_key: "sk-inline-secret", model: "m", fallbacks: ["b"] },
        { name: "b", base_url: upstreams.healthy.url, model: "m", fallbacks: ["a"] },
        { name: "c", model: "m", api_key: "sk-inline-secret" },
        { name: "d", base_url: upstreams.healthy.url, model: "m", prices: { input_per_mtok: 1, output_per_mtok: 1 } },
        { name: "d", base_url: upstreams.healthy.url, model: "m", prices: { input_per_mtok: 2, output_per_mtok: 1 } },
      ],
    });
    const lines = message.split("\n");
    expect(lines[0]).toMatch(/^Invalid configuration: MODELS \(.*models\.json\): 3 problems:$/);
    expect(lines.slice(1).map((line) => line.trim())).toEqual([
      "models[2].base_url: missing",
      "models[4] (d): its prices differ from those of models[3], a deployment of the same name",
      "fallbacks go round in a cycle: a → b → a",
    ]);
    expect(message).not.toContain("sk-inline-secret");
  });
});
