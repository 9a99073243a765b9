import { createServer } from "node:net";
import { Writable } from "node:stream";
import { type ConfigInput, createBrook, parseConfig } from "@brook/server";
import { Health } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { contentOf, streamEvents, until } from "./support/brook-harness.js";
import { type FakeServerOptions, type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";
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
  /** The model server's status once the check has ended. */
  const checked = async () => {
    await until(async () => (await health()).model_server?.status !== "checking");
    return (await health()).model_server;
  };
  return {
    brook,
    url,
    health,
    checked,
    warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg),
  };
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
    });
    expect(contentOf(await streamEvents(url, { message: "hi" }))).toBe("Hello from the fake upstream.");
    expect((await health()).model_server?.status).toBe("checking");

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
    const { health } = await brookWithLog({ DEMO_TOKEN_DELAY_MS: "0" });
    expect((await health()).model_server).toEqual({
      status: "unchecked",
      detail: "Demo mode: there is no model server to check.",
    });
  });
});
