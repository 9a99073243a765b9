import { createServer } from "node:net";
import { Writable } from "node:stream";
import { type ConfigInput, createBrook, parseConfig } from "@brook/server";
import { Health } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { contentOf, streamEvents, until } from "./support/brook-harness.js";
import { type FakeServerOptions, type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";
import { freePort } from "./support/free-port.js";
import { afterThisTest } from "./support/per-test.js";

type Env = { [K in keyof ConfigInput]?: string };

/** A Brook whose warnings (and worse) are collected as parsed JSON lines; closed after the test. */
async function brookWithLog(env: Env) {
  const lines: { level: number; msg: string }[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  const brook = await createBrook(
    parseConfig({ LOG_LEVEL: "warn", LOG_FORMAT: "json", HOST: "127.0.0.1", DRAIN_TIMEOUT_MS: "0", ...env }),
    { logStream },
  );
  afterThisTest(() => brook.close());
  const url = await brook.listen(0);
  const health = async () => Health.parse(await (await fetch(`${url}/health`)).json());
  /** The model server's status once the check has ended (with when, which it must say). */
  const checked = async () => {
    await until(async () => (await health()).model_server?.status !== "checking");
    const { checked_at, ...status } = (await health()).model_server ?? { status: "absent" };
    expect(Date.parse(checked_at ?? "")).not.toBeNaN();
    return status;
  };
  const ready = async () => {
    const response = await fetch(`${url}/health/ready`);
    return { status: response.status, body: (await response.json()) as { ready: boolean; model_server?: string } };
  };
  return {
    brook,
    url,
    health,
    checked,
    ready,
    warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg),
  };
}

/** A fake model server on `port` (for one that dies and comes back at the same address). */
async function upstreamOn(port: number): Promise<FakeUpstream> {
  const upstream = await startFakeUpstream({}, { port });
  // The test may have closed it already.
  afterThisTest(() => upstream.close().catch(() => {}));
  return upstream;
}

async function upstreamFor(behavior: FakeServerOptions = {}): Promise<FakeUpstream> {
  const upstream = await startFakeUpstream({}, behavior);
  afterThisTest(() => upstream.close());
  return upstream;
}

/** A loopback URL where nothing listens. */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

describe("the model server check at start-up", () => {
  it("asks GET /models with the key once and reports ok in /health, with no warning", async () => {
    const upstream = await upstreamFor();
    const { checked, warnings } = await brookWithLog({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "the-key" });
    expect(await checked()).toEqual({
      status: "ok",
      detail: "GET /models answered 200: 2 models, gpt-4o-mini among them.",
    });
    expect(upstream.modelRequests).toHaveLength(1);
    expect(upstream.modelRequests[0]?.headers.authorization).toBe("Bearer the-key");
    expect(warnings()).toEqual([]);
  });

  it("a base URL without /v1: not_found, saying to check that OPENAI_BASE_URL ends with /v1, in one warning line", async () => {
    const upstream = await upstreamFor();
    const base = upstream.url.replace(/\/v1$/, "");
    const { checked, warnings } = await brookWithLog({ OPENAI_BASE_URL: base, OPENAI_API_KEY: "the-key" });
    expect(await checked()).toEqual({
      status: "not_found",
      detail: "GET /models answered 404: check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1.",
    });
    expect(warnings()).toEqual([
      `The model server has nothing at that address: GET ${base}/models answered 404 (No route for GET /models); check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1.`,
    ]);
  });

  it("a wrong key: rejected_key, with the server's words in the log and never the key", async () => {
    const upstream = await upstreamFor({ apiKey: "the-right-key" });
    const { checked, warnings } = await brookWithLog({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "a-wrong-key" });
    expect(await checked()).toEqual({
      status: "rejected_key",
      detail: "GET /models answered 401: check OPENAI_API_KEY.",
    });
    expect(warnings()).toEqual([
      `The model server rejected the API key: GET ${upstream.url}/models answered 401 (Incorrect API key provided). Check OPENAI_API_KEY.`,
    ]);
    expect(JSON.stringify(warnings())).not.toContain("a-wrong-key");
  });

  it("nothing listening: unreachable, and Brook serves all the same", async () => {
    const base = await closedUrl();
    const { checked, warnings, url } = await brookWithLog({ OPENAI_BASE_URL: base, OPENAI_API_KEY: "the-key" });
    expect(await checked()).toEqual({
      status: "unreachable",
      detail: "GET /models failed: ECONNREFUSED (check OPENAI_BASE_URL).",
    });
    expect(warnings()).toEqual([
      `The model server cannot be reached: GET ${base}/models failed (ECONNREFUSED). Check OPENAI_BASE_URL.`,
    ]);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it("a server that does not list the default model: ok, and one warning naming what it has", async () => {
    const upstream = await upstreamFor({ models: ["llama3.2", "qwen3"] });
    const { checked, warnings } = await brookWithLog({ OPENAI_BASE_URL: upstream.url });
    expect(await checked()).toEqual({
      status: "ok",
      detail: "GET /models answered 200: 2 models, not gpt-4o-mini (check OPENAI_MODEL).",
    });
    expect(warnings()).toEqual([
      "The model server does not list the default model gpt-4o-mini (it lists llama3.2, qwen3). Check OPENAI_MODEL.",
    ]);
  });

  it("never holds up start-up: Brook listens and answers while the check waits, then reports it", async () => {
    const upstream = await upstreamFor();
    const release = upstream.holdModels();
    afterThisTest(release);
    const { url, health, checked } = await brookWithLog({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "the-key" });
    await until(() => upstream.modelRequests.length === 1);

    expect((await health()).model_server).toEqual({
      status: "checking",
      detail: "Asking the model server for its models…",
      checked_at: null,
    });
    expect(contentOf(await streamEvents(url, { message: "hi" }))).toBe("Hello from the fake upstream.");
    // The run's answered model call says what the check has not yet.
    expect((await health()).model_server).toMatchObject({ status: "ok", detail: "A model call was answered." });

    release();
    expect((await checked())?.status).toBe("ok");
  });

  it("stops a pending check at shutdown, quietly", async () => {
    const upstream = await upstreamFor();
    const release = upstream.holdModels();
    afterThisTest(release);
    const { brook, warnings } = await brookWithLog({ OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: "the-key" });
    await until(() => upstream.modelRequests.length === 1);
    await brook.close();
    expect(brook.services.health().model_server?.status).toBe("unchecked");
    expect(warnings()).toEqual([]);
  });

  it("demo mode has nothing to check: unchecked, and no request", async () => {
    const { health, ready } = await brookWithLog({ DEMO_TOKEN_DELAY_MS: "0" });
    expect((await health()).model_server).toEqual({
      status: "unchecked",
      detail: "Demo mode: there is no model server to check.",
      checked_at: null,
    });
    expect(await ready()).toMatchObject({ status: 200, body: { ready: true, model_server: "unchecked" } });
  });
});

describe("the model server, after start-up", () => {
  it("is checked again on an interval: one that died is unreachable at the next check, /health/ready 503, and ok when back", async () => {
    const port = await freePort();
    const first = await upstreamOn(port);
    const { url, health, checked, ready, warnings } = await brookWithLog({
      OPENAI_BASE_URL: first.url,
      OPENAI_API_KEY: "the-key",
      MODEL_CHECK_INTERVAL_MS: "50",
    });
    expect((await checked()).status).toBe("ok");
    expect(await ready()).toMatchObject({ status: 200, body: { ready: true, model_server: "ok" } });

    await first.close();
    await until(async () => (await health()).model_server?.status === "unreachable");
    expect(await ready()).toEqual({
      status: 503,
      body: expect.objectContaining({ ready: false, model_server: "unreachable" }),
    });
    const down = await health();
    expect(down.ready).toBe(false);
    // The instance itself is fine: /health answers 200 and says what is wrong.
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const lastChecked = Date.parse(down.model_server?.checked_at ?? "");
    await until(async () => Date.parse((await health()).model_server?.checked_at ?? "") > lastChecked);
    // Every check fails the same way: one warning, not one per check.
    expect(warnings().filter((line) => line.includes("cannot be reached"))).toHaveLength(1);

    const second = await upstreamOn(port);
    await until(async () => (await health()).model_server?.status === "ok");
    expect(await ready()).toMatchObject({ status: 200, body: { ready: true } });
    expect(second.modelRequests.length).toBeGreaterThan(0);
  });

  it("follows the model calls of runs: one that cannot connect marks it unreachable at once, one answered ok", async () => {
    const port = await freePort();
    const first = await upstreamOn(port);
    const { url, health, checked, ready, warnings } = await brookWithLog({
      OPENAI_BASE_URL: first.url,
      OPENAI_API_KEY: "the-key",
      OPENAI_MAX_RETRIES: "0",
      MODEL_CHECK_INTERVAL_MS: "0",
    });
    expect((await checked()).status).toBe("ok");

    await first.close();
    const failed = await streamEvents(url, { message: "hello?" });
    expect(failed.at(-1)).toMatchObject({ type: "error", code: "upstream_unreachable" });
    expect((await health()).model_server).toMatchObject({
      status: "unreachable",
      detail: "A model call could not connect (check OPENAI_BASE_URL).",
    });
    expect((await ready()).status).toBe(503);
    expect(warnings()).toContain(
      "A model call could not connect to the model server; /health/ready answers 503 until it answers again. Check OPENAI_BASE_URL.",
    );

    const second = await upstreamOn(port);
    expect(contentOf(await streamEvents(url, { message: "hello again" }))).toBe("Hello from the fake upstream.");
    expect((await health()).model_server).toMatchObject({ status: "ok", detail: "A model call was answered." });
    expect((await ready()).status).toBe(200);
    // No check ran meanwhile (MODEL_CHECK_INTERVAL_MS=0): the runs told it.
    expect(second.modelRequests).toHaveLength(0);
  });
});
