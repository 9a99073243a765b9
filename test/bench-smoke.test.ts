import { describe, expect, it } from "vitest";
import { runBench } from "./bench/main.js";
import { toMarkdown } from "./bench/report.js";
import type { BenchConfig } from "./bench/scenarios.js";

/** The benchmark in miniature: every path works under concurrent load. Timings are never judged here. */
const smokeConfig: BenchConfig = {
  ttft: {
    rounds: 2,
    loads: [
      { concurrency: 1, requests: 20, tokens: 5, delayMs: 0 },
      { concurrency: 8, requests: 40, tokens: 5, delayMs: 2 },
    ],
  },
  relay: { roundMs: 200, rounds: 2, concurrency: 4, tokens: 50 },
  capacity: { steps: [100], tokens: 10, delayMs: 10 },
  paths: { roundMs: 200, rounds: 2, concurrency: 4, tokens: 50, jsonTokens: 10, ttftRequests: 10 },
  soak: { requests: 200, concurrency: 8, tokens: 5 },
  paced: { roundMs: 200, rounds: 2, streams: 8, tokens: 10, delayMs: 5 },
  peers: {
    roundMs: 200,
    rounds: 2,
    concurrency: 4,
    tokens: 50,
    ttftRequests: 10,
    streams: 20,
    capacity: { tokens: 10, delayMs: 10 },
  },
};

describe("the benchmark (smoke)", () => {
  it("relays every stream through Brook without an error on each path it measures", async () => {
    const lines: string[] = [];
    const results = await runBench({
      config: smokeConfig,
      mode: "quick",
      brookFrom: "source",
      only: ["ttft", "relay", "capacity", "paths", "soak", "scaleout"],
      scaleOut: {
        roundMs: 200,
        rounds: 2,
        concurrency: 4,
        tokens: 50,
        paced: { concurrency: 4, tokens: 10, delayMs: 5 },
        delay: { runs: 8, concurrency: 4, tokens: 10, delayMs: 5 },
        memoryRuns: 10,
        capacity: { streams: 50, tokens: 10, delayMs: 10 },
      },
      log: (line) => lines.push(line),
    });
    const context = lines.join("\n");

    expect(
      results.ttft?.map((row) => row.errors),
      context,
    ).toEqual([0, 0]);
    expect(
      results.ttft?.every((row) => row.requests > 0 && Number.isFinite(row.brookP50)),
      context,
    ).toBe(true);

    expect(results.relay?.errors, context).toBe(0);
    expect(results.relay?.brookEventsPerSecond, context).toBeGreaterThan(0);

    expect(results.capacity?.[0], context).toMatchObject({ streams: 100, errors: 0, directErrors: 0 });

    expect(results.paths?.errors, context).toBe(0);
    expect(results.paths?.trpcEventsPerSecond, context).toBeGreaterThan(0);
    expect(results.paths?.aisdk.eventsPerSecond, context).toBeGreaterThan(0);
    expect(results.paths?.openai.eventsPerSecond, context).toBeGreaterThan(0);
    expect(Number.isFinite(results.paths?.openai.ttftP50), context).toBe(true);
    expect(results.paths?.responses.eventsPerSecond, context).toBeGreaterThan(0);
    expect(Number.isFinite(results.paths?.responses.ttftP50), context).toBe(true);
    expect(toMarkdown(results)).toContain("| OpenAI Responses stream (`/v1/responses`) vs REST stream");
    expect(results.paths?.brookJsonRequestsPerSecond, context).toBeGreaterThan(0);
    // A typed answer: its content as for text, partial objects beside it, every figure of the comparison there.
    const structured = results.paths?.structured;
    expect(structured?.eventsPerSecond, context).toBeGreaterThan(0);
    expect(structured?.objectsPerSecond, context).toBeGreaterThan(0);
    expect(structured?.cpuMicrosPerRelayedEvent, context).toBeGreaterThan(0);
    expect([structured?.cpuRatio, structured?.ttftP50].every(Number.isFinite), context).toBe(true);
    expect(toMarkdown(results)).toContain("| Typed answer (`output.schema`) vs text answer");

    expect(results.soak, context).toMatchObject({ requests: 200, errors: 0 });

    expect(results.scaleout?.errors, context).toBe(0);
    expect(results.scaleout?.remoteEventsPerSecond, context).toBeGreaterThan(0);
    expect(results.scaleout?.delayEvents, context).toBeGreaterThan(0);
    expect(results.scaleout?.redisKbPerRun, context).toBeGreaterThan(0);
  }, 120_000);

  it("compares Brook with the peers on bursty and paced answers, the model server's own cost beside them", async () => {
    const lines: string[] = [];
    const results = await runBench({
      config: smokeConfig,
      mode: "quick",
      brookFrom: "source",
      only: ["paced", "peers"],
      log: (line) => lines.push(line),
    });
    const context = lines.join("\n");

    // Paced answers through every relay, the model server's own CPU cost beside them.
    expect(results.paced?.errors, context).toBe(0);
    expect(results.paced?.modelServerCpuMicrosPerEvent, context).toBeGreaterThan(0);
    for (const relay of ["rest", "trpc", "aisdk", "openai", "openai-relay", "ai-sdk-server"]) {
      expect(results.paced?.relays[relay]?.cpuMicrosPerEvent, `${relay}\n${context}`).toBeGreaterThan(0);
    }
    expect(results.paced?.brookVsOpenaiRelay, context).toBeGreaterThan(0);

    // The peers answer the same load as Brook, and every figure of the comparison is there.
    expect(results.peers?.errors, context).toBe(0);
    for (const peer of ["openai-relay", "ai-sdk-server"]) {
      const it = results.peers?.peers[peer];
      expect(it?.eventsPerSecond, `${peer}\n${context}`).toBeGreaterThan(0);
      expect(it?.heldOpen, `${peer}\n${context}`).toBe(20);
      const { cpuPerEvent, eventsPerSecond, ttftP50, totalP99 } = it?.brookRatio ?? {};
      expect([cpuPerEvent, eventsPerSecond, ttftP50, totalP99].every(Number.isFinite), `${peer}\n${context}`).toBe(
        true,
      );
    }

    // Both tables are in the report.
    const markdown = toMarkdown(results);
    expect(markdown).toContain("| CPU per relayed event, paced ");
    expect(markdown).toContain("| Memory per open stream (RSS after a full GC, 20 open) ");
  }, 120_000);

  it("measures WORKERS=2 against WORKERS=1 with every process of each counted", async () => {
    const lines: string[] = [];
    const results = await runBench({
      config: smokeConfig,
      mode: "quick",
      brookFrom: "source",
      only: ["workers"],
      workers: { roundMs: 300, rounds: 2, concurrency: 8, tokens: 50 },
      log: (line) => lines.push(line),
    });
    const context = lines.join("\n");
    for (const path of ["rest", "trpc"]) {
      const two = results.workers?.[path];
      const one = two?.one;
      expect([two?.errors, one?.errors], `${path}\n${context}`).toEqual([0, 0]);
      expect([two?.processes, one?.processes], `${path}\n${context}`).toEqual([3, 1]);
      expect(two?.eventsPerSecond, `${path}\n${context}`).toBeGreaterThan(0);
      // Counted alone, the primary would show little CPU (the workers relay) and one process's memory.
      expect(two?.cpuMicrosPerEvent, `${path}\n${context}`).toBeGreaterThan(one?.cpuMicrosPerEvent / 2);
      expect(two?.rssMb, `${path}\n${context}`).toBeGreaterThan(one?.rssMb * 1.5);
      expect(Number.isFinite(two?.totalP99), `${path}\n${context}`).toBe(true);
    }
    expect(toMarkdown(results)).toContain("| `WORKERS=2` vs `WORKERS=1` (same `REDIS_URL`), REST stream");
  }, 120_000);
});
