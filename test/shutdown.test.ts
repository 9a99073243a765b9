import { createBrookClient } from "@brook/client";
import { type ChatEvent, ErrorBody, Health } from "@brook/shared";
import { afterEach, describe, expect, it } from "vitest";
import { contentOf, startHarness, streamEvents, until } from "./support/brook-harness.js";
import { type FakeUpstream, startFakeUpstream } from "./support/fake-upstream.js";
import { harness } from "./support/per-test.js";
import { type ServerProcess, spawnServer } from "./support/server-process.js";
import { fake } from "./support/sse-text.js";

describe("graceful shutdown of the server process", () => {
  let server: ServerProcess | undefined;
  let upstream: FakeUpstream | undefined;
  afterEach(async () => {
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    await upstream?.close();
    server = undefined;
    upstream = undefined;
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal}: drains, ends what is left with shutdown (with usage), and exits 0`, async () => {
      upstream = await startFakeUpstream();
      server = spawnServer({
        PORT: "0",
        OPENAI_API_KEY: "test-key",
        OPENAI_BASE_URL: upstream.url,
        OPENAI_MAX_RETRIES: "0",
        DRAIN_TIMEOUT_MS: "1500",
        LOG_FORMAT: "json",
      });
      const line = await server.waitFor(/streaming at/);
      const url = /at (http:\/\/[\d.]+:\d+)/.exec(line)?.[1] as string;

      const stream = (behavior: Record<string, unknown>) => streamEvents(url, { message: `hi ${fake(behavior)}` });
      const short = stream({ tokens: 10, delayMs: 100 });
      const long = [stream({ tokens: 1000, delayMs: 20 }), stream({ tokens: 1000, delayMs: 20 })];
      const silent = stream({ hang: true });
      const typed = (async () => {
        const events: ChatEvent[] = [];
        const client = createBrookClient({ url });
        for await (const event of client.streamChat({ message: `hi ${fake({ tokens: 1000, delayMs: 20 })}` })) {
          events.push(event);
        }
        return events;
      })();
      await until(() => upstream?.openStreams() === 5, 10_000);

      server.child.kill(signal);
      // Draining: probes see 503, new work is refused with a retryable 503.
      await until(async () => (await fetch(`${url}/health`)).status === 503);
      const health = Health.parse(await (await fetch(`${url}/health`)).json());
      expect(health.status).toBe("draining");
      const refused = await fetch(`${url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "too late" }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).not.toBeNull();
      expect(ErrorBody.parse(await refused.json())).toMatchObject({ code: "shutdown", retryable: true });

      // The short answer finishes within the drain time.
      const finished = await short;
      expect(finished.at(-1)?.type).toBe("complete");
      expect(contentOf(finished).split(" ")).toHaveLength(10);

      // The rest end with one terminal `shutdown` event each, with what they used.
      for (const events of [...(await Promise.all(long)), await typed]) {
        expect(events.filter((event) => event.type === "complete" || event.type === "error")).toHaveLength(1);
        const last = events.at(-1);
        expect(last).toMatchObject({ type: "error", code: "shutdown", retryable: true });
        if (last?.type === "error") {
          expect(last.usage.output_tokens).toBeGreaterThan(0);
          expect(last.usage.input_tokens).toBeGreaterThan(0);
        }
      }
      const stalled = (await silent).at(-1);
      expect(stalled).toMatchObject({ type: "error", code: "shutdown" });
      if (stalled?.type === "error") expect(stalled.usage.input_tokens).toBeGreaterThan(0);

      expect(await server.exited).toBe(0);
      await upstream.waitIdle();
      expect(server.output()).toMatch(/shut down/);
    }, 60_000);
  }

  it("exits 0 at once when nothing is running", async () => {
    server = spawnServer({ PORT: "0", DRAIN_TIMEOUT_MS: "30000", DEMO_TOKEN_DELAY_MS: "1" });
    await server.waitFor(/DEMO MODE/);
    const started = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // Far from the 30 s drain time: an idle server does not wait for it.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe("shutdown steps", () => {
  it("runs close callbacks (MCP connections and the like) after the last run ended, once, in reverse order", async () => {
    const { brook, url, upstream } = await harness({}, { tokens: 1000, delayMs: 20 });
    const steps: string[] = [];
    brook.services.onClose(() => {
      steps.push(`first (active runs: ${brook.services.control.activeCount})`);
    });
    brook.services.onClose(async () => {
      steps.push("second");
      throw new Error("a failing step does not stop the others");
    });
    const streaming = streamEvents(url, { message: "hi" });
    await until(() => upstream.openStreams() === 1);
    await Promise.all([brook.close({ drainMs: 50 }), brook.close()]);
    expect(steps).toEqual(["second", "first (active runs: 0)"]);
    expect((await streaming).at(-1)).toMatchObject({ type: "error", code: "shutdown" });
  });
});

describe("Brook.close()", () => {
  /** Worker threads of this process, as its diagnostic report lists them (an unref'd thread included). */
  const threads = () => (process.report.getReport() as { workers: unknown[] }).workers.length;

  it("ends the tokenizer's worker thread, which counts tokens when the model server reports no usage", async () => {
    const before = threads();
    const started = await startHarness({}, { text: "Counted here, by Brook itself.", omitUsage: true });
    try {
      const events = await streamEvents(started.url, { message: "count me" });
      expect(events.at(-1)).toMatchObject({ type: "complete", usage: { estimated: true } });
      expect(threads()).toBe(before + 1);
    } finally {
      await started.close();
    }
    expect(threads()).toBe(before);
  });
});
