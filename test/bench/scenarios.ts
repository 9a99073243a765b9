/**
 * The benchmark's measurements. Each compares paths in the same run, interleaved round by
 * round (A B, B A, A B…), so that noise from the machine falls on both sides of a ratio.
 */
import { join } from "node:path";
import type { AnswerShape } from "./answer-shape.js";
import type { BrookProcess, PeerName, ServerProcess, UpstreamProcess } from "./bench-processes.js";
import {
  newAgent,
  type Path,
  quantile,
  type RequestResult,
  runPool,
  runRequest,
  summarize,
  type Targets,
} from "./load.js";
import { topSelfTime } from "./report.js";

export interface BenchConfig {
  /**
   * Per concurrency: how many requests a round, and the answers' shape. Under concurrency the
   * answers are paced like a real model's, so that the figure is Brook's latency, not a queue.
   */
  ttft: { rounds: number; loads: { concurrency: number; requests: number; tokens: number; delayMs: number }[] };
  relay: { roundMs: number; rounds: number; concurrency: number; tokens: number };
  capacity: { steps: number[]; tokens: number; delayMs: number };
  /** `ttftRequests`: per path and round, one at a time, for the added time to first token. */
  paths: {
    roundMs: number;
    rounds: number;
    concurrency: number;
    tokens: number;
    jsonTokens: number;
    ttftRequests: number;
  };
  soak: { requests: number; concurrency: number; tokens: number };
  /** Answers paced like a real model's (one chunk per read), `streams` at once, on every relay. */
  paced: { roundMs: number; rounds: number; streams: number; tokens: number; delayMs: number };
  /**
   * Brook against the peers: bursty throughput (`tokens`-token answers, `concurrency` at a time),
   * time to first token one at a time, memory per open stream and p99 total time with `streams` open.
   */
  peers: {
    roundMs: number;
    rounds: number;
    concurrency: number;
    tokens: number;
    ttftRequests: number;
    streams: number;
    capacity: { tokens: number; delayMs: number };
  };
}

export const fullConfig: BenchConfig = {
  ttft: {
    rounds: 4,
    loads: [
      { concurrency: 1, requests: 500, tokens: 5, delayMs: 0 },
      { concurrency: 32, requests: 640, tokens: 10, delayMs: 20 },
    ],
  },
  relay: { roundMs: 3_000, rounds: 4, concurrency: 16, tokens: 200 },
  capacity: { steps: [1_000, 2_000, 5_000, 10_000], tokens: 50, delayMs: 20 },
  paths: { roundMs: 3_000, rounds: 4, concurrency: 16, tokens: 200, jsonTokens: 20, ttftRequests: 300 },
  soak: { requests: 100_000, concurrency: 32, tokens: 5 },
  paced: { roundMs: 3_000, rounds: 4, streams: 128, tokens: 50, delayMs: 10 },
  peers: {
    roundMs: 3_000,
    rounds: 4,
    concurrency: 32,
    tokens: 200,
    ttftRequests: 300,
    streams: 2_000,
    capacity: { tokens: 50, delayMs: 20 },
  },
};

export const quickConfig: BenchConfig = {
  ttft: {
    rounds: 2,
    loads: [
      { concurrency: 1, requests: 200, tokens: 5, delayMs: 0 },
      { concurrency: 32, requests: 320, tokens: 10, delayMs: 20 },
    ],
  },
  relay: { roundMs: 1_500, rounds: 2, concurrency: 16, tokens: 200 },
  capacity: { steps: [500, 1_000], tokens: 50, delayMs: 20 },
  paths: { roundMs: 1_500, rounds: 2, concurrency: 16, tokens: 200, jsonTokens: 20, ttftRequests: 150 },
  soak: { requests: 10_000, concurrency: 32, tokens: 5 },
  paced: { roundMs: 1_500, rounds: 2, streams: 128, tokens: 50, delayMs: 10 },
  peers: {
    roundMs: 1_500,
    rounds: 2,
    concurrency: 32,
    tokens: 200,
    ttftRequests: 150,
    streams: 500,
    capacity: { tokens: 50, delayMs: 20 },
  },
};

export interface Context {
  targets: Targets;
  brook: BrookProcess;
  /** Replaces Brook with a fresh process (updating `brook` and `targets`), for memory figures from a clean start. */
  restartBrook: () => Promise<void>;
  /** The fake upstream, for the model server's own CPU cost. */
  upstream?: UpstreamProcess;
  /** The peers, when a section needs them (their URLs are in `targets.peerUrls`). */
  peers?: Partial<Record<PeerName, ServerProcess>>;
  /** Replaces a peer with a fresh process (updating `peers` and `targets`). */
  restartPeer?: (name: PeerName) => Promise<void>;
  /** Local source addresses to spread connections over (at least one). */
  sourceAddresses: string[];
  log: (line: string) => void;
  /** Where each capacity step writes a CPU profile of its Brook, when asked. */
  profileDir?: string | undefined;
}

export const round2 = (value: number) => Math.round(value * 100) / 100;
/** The order of a pair in round `index`: A B, B A, A B… */
const pairOrder = <T>(pair: [T, T], index: number): [T, T] => (index % 2 === 0 ? pair : [pair[1], pair[0]]);
/** The order of several paths in round `index`: each goes first in turn (a pair: A B, B A…). */
export const roundOrder = <T>(paths: readonly T[], index: number): T[] => {
  const shift = index % paths.length;
  return [...paths.slice(shift), ...paths.slice(0, shift)];
};

// ---------------------------------------------------------------------------------------------
// 1. Added time to first token

export async function measureTtft(context: Context, config: BenchConfig["ttft"]) {
  const rows = [];
  for (const { concurrency, requests, ...shape } of config.loads) {
    const results: Record<"direct" | "rest", RequestResult[]> = { direct: [], rest: [] };
    const agents = { direct: newAgent(), rest: newAgent() };
    for (let round = 0; round < config.rounds; round++) {
      for (const path of pairOrder<"direct" | "rest">(["direct", "rest"], round)) {
        const batch = await runPool(requests, concurrency, () =>
          runRequest(path, context.targets, shape, { agent: agents[path] }),
        );
        // The first round warms connections and JIT on both sides: it does not count.
        if (round > 0 || config.rounds === 1) results[path].push(...batch);
      }
    }
    agents.direct.destroy();
    agents.rest.destroy();
    const direct = summarize(results.direct);
    const brook = summarize(results.rest);
    const row = {
      concurrency,
      tokens: shape.tokens,
      delayMs: shape.delayMs,
      requests: direct.requests + brook.requests,
      errors: direct.errors + brook.errors,
      sampleErrors: [...direct.sampleErrors, ...brook.sampleErrors],
      directP50: round2(direct.ttftP50),
      directP99: round2(direct.ttftP99),
      brookP50: round2(brook.ttftP50),
      brookP99: round2(brook.ttftP99),
      addedP50: round2(brook.ttftP50 - direct.ttftP50),
      addedP99: round2(brook.ttftP99 - direct.ttftP99),
    };
    context.log(
      `ttft c=${concurrency}: direct p50 ${row.directP50} p99 ${row.directP99} · Brook p50 ${row.brookP50} p99 ${row.brookP99} · added p50 ${row.addedP50} p99 ${row.addedP99} ms · errors ${row.errors}`,
    );
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Relay throughput, and 4a. tRPC versus REST (both: content events per second)

/** The process that relays `path`'s streams (none for the direct paths). */
export function relayOf(context: Context, path: Path): ServerProcess | undefined {
  if (path === "direct" || path === "direct-json") return undefined;
  if (path === "openai-relay" || path === "ai-sdk-server" || path === "baseline") return context.peers?.[path];
  return context.brook;
}

/**
 * Runs requests on `path` for `ms` with `concurrency` workers; counts content events. Paced answers
 * start spread over one token interval, as a real model's streams do not tick in step.
 */
async function runFor(context: Context, path: Path, shape: AnswerShape, ms: number, concurrency: number) {
  const agent = newAgent();
  const deadline = performance.now() + ms;
  const results: RequestResult[] = [];
  const startedAt = performance.now();
  const worker = async (index: number) => {
    if (shape.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, (index * shape.delayMs) / concurrency));
    while (performance.now() < deadline) results.push(await runRequest(path, context.targets, shape, { agent }));
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  const summary = summarize(results);
  return { seconds, ...summary };
}

/** Content events per second of each path, with the CPU time its relay and the upstream spent per event. */
export async function compareThroughput(
  context: Context,
  paths: readonly Path[],
  shape: AnswerShape,
  config: { roundMs: number; rounds: number; concurrency: number },
) {
  const totals = new Map<
    Path,
    {
      seconds: number;
      contents: number;
      objects: number;
      requests: number;
      errors: number;
      cpu: number;
      upstreamCpu: number;
    }
  >();
  const sampleErrors: (string | undefined)[] = [];
  for (const path of paths) {
    totals.set(path, { seconds: 0, contents: 0, objects: 0, requests: 0, errors: 0, cpu: 0, upstreamCpu: 0 });
  }
  const noCpu = async () => 0;
  for (let round = 0; round < config.rounds; round++) {
    for (const path of roundOrder(paths, round)) {
      const relay = relayOf(context, path);
      const relayCpu = relay === undefined ? noCpu : () => relay.cpuMicros();
      const upstreamCpu =
        context.upstream === undefined ? noCpu : () => (context.upstream as UpstreamProcess).cpuMicros();
      const [cpuBefore, upstreamBefore] = [await relayCpu(), await upstreamCpu()];
      const result = await runFor(context, path, shape, config.roundMs, config.concurrency);
      const cpu = (await relayCpu()) - cpuBefore;
      const upstreamSpent = (await upstreamCpu()) - upstreamBefore;
      sampleErrors.push(...result.sampleErrors);
      // The first round warms up; it does not count (unless it is the only one).
      if (round === 0 && config.rounds > 1) continue;
      const total = totals.get(path);
      if (total === undefined) continue;
      total.seconds += result.seconds;
      total.contents += result.contents;
      total.objects += result.objects;
      total.requests += result.requests;
      total.errors += result.errors;
      total.cpu += cpu;
      total.upstreamCpu += upstreamSpent;
    }
  }
  const sides = paths.map((path): ThroughputSide => {
    const total = totals.get(path) as NonNullable<ReturnType<typeof totals.get>>;
    const perEvent = (micros: number) => (total.contents > 0 ? round2(micros / total.contents) : null);
    const relayed = total.contents + total.objects;
    return {
      path,
      eventsPerSecond: Math.round(total.contents / total.seconds),
      objectsPerSecond: Math.round(total.objects / total.seconds),
      requestsPerSecond: Math.round(total.requests / total.seconds),
      errors: total.errors,
      requests: total.requests,
      relayCpuMicrosPerEvent: relayOf(context, path) === undefined ? null : perEvent(total.cpu),
      relayCpuMicrosPerRelayedEvent:
        relayOf(context, path) === undefined || relayed === 0 ? null : round2(total.cpu / relayed),
      upstreamCpuMicrosPerEvent: context.upstream === undefined ? null : perEvent(total.upstreamCpu),
    };
  });
  return { sides, sampleErrors: [...new Set(sampleErrors)].slice(0, 3) };
}

export interface ThroughputSide {
  path: Path;
  /** Content events per second. */
  eventsPerSecond: number;
  /** `object` events per second (the `structured` path; 0 elsewhere). */
  objectsPerSecond: number;
  requestsPerSecond: number;
  errors: number;
  requests: number;
  /** CPU time per content event (µs) of the process relaying the path (Brook or a peer); null for the direct paths. */
  relayCpuMicrosPerEvent: number | null;
  /** The same per event relayed, content and `object` events together; null for the direct paths. */
  relayCpuMicrosPerRelayedEvent: number | null;
  /** The fake upstream's CPU time per content event (µs), when it is measured. */
  upstreamCpuMicrosPerEvent: number | null;
}

export async function measureRelay(context: Context, config: BenchConfig["relay"]) {
  const shape = { tokens: config.tokens, delayMs: 0 };
  const {
    sides: [direct, brook],
    sampleErrors,
  } = (await compareThroughput(context, ["direct", "rest"], shape, config)) as {
    sides: [ThroughputSide, ThroughputSide];
    sampleErrors: (string | undefined)[];
  };
  const row = {
    concurrency: config.concurrency,
    tokens: config.tokens,
    directEventsPerSecond: direct.eventsPerSecond,
    brookEventsPerSecond: brook.eventsPerSecond,
    ratio: round2(brook.eventsPerSecond / direct.eventsPerSecond),
    brookCpuMicrosPerEvent: brook.relayCpuMicrosPerEvent,
    errors: direct.errors + brook.errors,
    sampleErrors,
  };
  context.log(
    `relay: direct ${row.directEventsPerSecond}/s · Brook ${row.brookEventsPerSecond}/s · ratio ${row.ratio} · Brook CPU ${row.brookCpuMicrosPerEvent} µs/event · errors ${row.errors}`,
  );
  return row;
}

/** Time to first token of several paths, one request at a time, interleaved round by round. */
export async function compareTtft(context: Context, paths: readonly Path[], requests: number, rounds: number) {
  const results = new Map<Path, RequestResult[]>(paths.map((path) => [path, []]));
  const agent = newAgent();
  const shape = { tokens: 5, delayMs: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const path of roundOrder(paths, round)) {
      const batch = await runPool(requests, 1, () => runRequest(path, context.targets, shape, { agent }));
      // The first round warms up; it does not count (unless it is the only one).
      if (round > 0 || rounds === 1) results.get(path)?.push(...batch);
    }
  }
  agent.destroy();
  return new Map(paths.map((path) => [path, summarize(results.get(path) ?? [])]));
}

/**
 * The ecosystems' streams (AI SDK, OpenAI's chat completions and Responses), tRPC and a typed answer (`structured`) against the REST
 * stream, and the non-streaming path.
 */
export async function measurePaths(context: Context, config: BenchConfig["paths"]) {
  const streamed = await compareThroughput(
    context,
    ["rest", "trpc", "aisdk", "openai", "responses", "structured"],
    { tokens: config.tokens, delayMs: 0 },
    config,
  );
  const [rest, trpc, aisdk, openai, responses, structured] = streamed.sides as [
    ThroughputSide,
    ThroughputSide,
    ThroughputSide,
    ThroughputSide,
    ThroughputSide,
    ThroughputSide,
  ];
  const ttft = await compareTtft(
    context,
    ["rest", "aisdk", "openai", "responses", "structured"],
    config.ttftRequests,
    config.rounds,
  );
  const json = await compareThroughput(
    context,
    ["direct-json", "rest-json"],
    { tokens: config.jsonTokens, delayMs: 0 },
    {
      ...config,
      concurrency: 32,
    },
  );
  const [directJson, restJson] = json.sides as [ThroughputSide, ThroughputSide];
  const ttftOf = (path: Path) => ttft.get(path) as ReturnType<typeof summarize>;
  const versusRest = (side: ThroughputSide, path: Path) => ({
    eventsPerSecond: side.eventsPerSecond,
    ratio: round2(side.eventsPerSecond / rest.eventsPerSecond),
    cpuMicrosPerEvent: side.relayCpuMicrosPerEvent,
    cpuRatio:
      side.relayCpuMicrosPerEvent === null || rest.relayCpuMicrosPerEvent === null
        ? null
        : round2(side.relayCpuMicrosPerEvent / rest.relayCpuMicrosPerEvent),
    ttftP50: round2(ttftOf(path).ttftP50),
    ttftP99: round2(ttftOf(path).ttftP99),
    addedTtftP50: round2(ttftOf(path).ttftP50 - ttftOf("rest").ttftP50),
    ttftRatio: round2(ttftOf(path).ttftP50 / ttftOf("rest").ttftP50),
  });
  const ttftErrors = [...ttft.values()].reduce((sum, summary) => sum + summary.errors, 0);
  const row = {
    restEventsPerSecond: rest.eventsPerSecond,
    trpcEventsPerSecond: trpc.eventsPerSecond,
    trpcRatio: round2(trpc.eventsPerSecond / rest.eventsPerSecond),
    trpcCpuMicrosPerEvent: trpc.relayCpuMicrosPerEvent,
    restCpuMicrosPerEvent: rest.relayCpuMicrosPerEvent,
    restTtftP50: round2(ttftOf("rest").ttftP50),
    restTtftP99: round2(ttftOf("rest").ttftP99),
    aisdk: versusRest(aisdk, "aisdk"),
    openai: versusRest(openai, "openai"),
    responses: versusRest(responses, "responses"),
    // The same answer length as text, asked for as JSON: content events as for text, plus one `object`
    // event per batch whose partial object changed (one parse per network read, not per chunk).
    structured: {
      ...versusRest(structured, "structured"),
      objectsPerSecond: structured.objectsPerSecond,
      objectsPerContent:
        structured.eventsPerSecond > 0 ? round2(structured.objectsPerSecond / structured.eventsPerSecond) : null,
      cpuMicrosPerRelayedEvent: structured.relayCpuMicrosPerRelayedEvent,
    },
    directJsonRequestsPerSecond: directJson.requestsPerSecond,
    brookJsonRequestsPerSecond: restJson.requestsPerSecond,
    jsonRatio: round2(restJson.requestsPerSecond / directJson.requestsPerSecond),
    errors:
      streamed.sides.reduce((sum, side) => sum + side.errors, 0) + directJson.errors + restJson.errors + ttftErrors,
    sampleErrors: [
      ...streamed.sampleErrors,
      ...json.sampleErrors,
      ...[...ttft.values()].flatMap((summary) => summary.sampleErrors),
    ],
  };
  context.log(
    `paths: REST ${row.restEventsPerSecond}/s · tRPC ${row.trpcEventsPerSecond}/s · ratio ${row.trpcRatio} · POST /chat ${row.brookJsonRequestsPerSecond} req/s vs direct ${row.directJsonRequestsPerSecond} req/s · errors ${row.errors}`,
  );
  for (const [name, side] of [
    ["AI SDK /api/chat", row.aisdk],
    ["OpenAI /v1", row.openai],
    ["OpenAI /v1/responses", row.responses],
    ["structured (output.schema)", row.structured],
  ] as const) {
    context.log(
      `paths: ${name} ${side.eventsPerSecond}/s = ${side.ratio}× REST · CPU ${side.cpuMicrosPerEvent} vs ${row.restCpuMicrosPerEvent} µs/event = ${side.cpuRatio}× · TTFT p50 ${side.ttftP50} vs ${row.restTtftP50} ms (added ${side.addedTtftP50} ms, ${side.ttftRatio}×)`,
    );
  }
  context.log(
    `paths: structured ${row.structured.objectsPerSecond} object events/s (${row.structured.objectsPerContent} per content event) · CPU ${row.structured.cpuMicrosPerRelayedEvent} µs per relayed event (content + object)`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------
// 3. Capacity: many concurrent paced streams

/** Connections opened at once while warming up a capacity step. */
export const connectWave = 250;

/** Streams open at this moment and at the busiest one, as a capacity step counts them. */
interface OpenCount {
  open: number;
  peakOpen: number;
}

/**
 * A capacity step's load on `path`: a warm-up with the same number of connections, then `streams`
 * streams of `shape` all at once. Returns their results and the gaps between their content events.
 */
export async function driveStep(
  context: Context,
  path: Path,
  streams: number,
  shape: AnswerShape,
  count: OpenCount = { open: 0, peakOpen: 0 },
) {
  const agent = newAgent();
  const addresses = context.sourceAddresses;
  const options = (index: number) => ({
    agent,
    ...(addresses.length > 1 ? { localAddress: addresses[index % addresses.length] } : {}),
  });
  // Warm-up with the same number of connections, as a client pool that is already connected would be;
  // it also grows the relay's pool of upstream connections. Connections are part of what a stream costs.
  // They open in waves (as clients arrive), on long streams that all overlap: a storm of thousands
  // of connects at once would only measure the kernel's accept queue.
  count.open = streams;
  const warmups: Promise<RequestResult>[] = [];
  for (let index = 0; index < streams; index++) {
    if (index > 0 && index % connectWave === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    warmups.push(runRequest(path, context.targets, { tokens: 10, delayMs: 200 }, options(index)));
  }
  await Promise.all(warmups);
  count.open = 0;
  const gaps: number[] = [];
  const results = await runPool(streams, streams, async (index) => {
    count.open += 1;
    count.peakOpen = Math.max(count.peakOpen, count.open);
    const result = await runRequest(path, context.targets, shape, { ...options(index), gaps });
    count.open -= 1;
    return result;
  });
  agent.destroy();
  return { results, gaps };
}

async function runStep(context: Context, path: "direct" | "rest", streams: number, shape: AnswerShape) {
  let idleRss = 0;
  if (path === "rest") {
    // A fresh Brook, warmed up by a few requests: its RSS now is the idle baseline of this step.
    await context.restartBrook();
    const warmAgent = newAgent();
    await runPool(200, 16, () => runRequest("rest", context.targets, { tokens: 5, delayMs: 0 }, { agent: warmAgent }));
    warmAgent.destroy();
    idleRss = await context.brook.rss();
    if (context.profileDir !== undefined) await context.brook.startProfile();
  }
  const count: OpenCount = { open: 0, peakOpen: 0 };
  let peakRss = idleRss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && path === "rest") {
      const rss = await context.brook.rss();
      if (rss > peakRss && count.open > 0) {
        peakRss = rss;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const { results, gaps } = await driveStep(context, path, streams, shape, count);
  sampling = false;
  await sampler;
  if (path === "rest" && context.profileDir !== undefined) {
    const profile = join(context.profileDir, `capacity-${streams}.cpuprofile`);
    await context.brook.stopProfile(profile);
    context.log(`CPU profile of Brook: ${profile}\n${topSelfTime(profile)}`);
  }
  const summary = summarize(results);
  const { peakOpen } = count;
  return {
    ...summary,
    gapP99: quantile(gaps, 0.99),
    peakOpen,
    rssPerStreamKb: path === "rest" && peakOpen > 0 ? (peakRss - idleRss) / 1024 / peakOpen : null,
    idleRssMb: idleRss / 1024 / 1024,
    peakRssMb: peakRss / 1024 / 1024,
  };
}

export async function measureCapacity(context: Context, config: BenchConfig["capacity"], fileLimit: number) {
  const shape = { tokens: config.tokens, delayMs: config.delayMs };
  const idealMs = (config.tokens - 1) * config.delayMs;
  const rows = [];
  for (const streams of config.steps) {
    // Brook holds two sockets per stream (client and upstream) and the generator one.
    if (streams * 2 + 500 > fileLimit) {
      context.log(`capacity ${streams}: skipped, the open-file limit (${fileLimit}) is too low`);
      rows.push({ streams, skipped: `open-file limit ${fileLimit}` });
      continue;
    }
    const direct = await runStep(context, "direct", streams, shape);
    const brook = await runStep(context, "rest", streams, shape);
    const held = await measureHeld(context, streams);
    const row = {
      streams,
      idealMs,
      errors: brook.errors,
      directErrors: direct.errors,
      sampleErrors: [...direct.sampleErrors, ...brook.sampleErrors],
      directTotalP99: round2(direct.totalP99),
      brookTotalP99: round2(brook.totalP99),
      totalP99VsIdeal: round2(brook.totalP99 / idealMs),
      directTotalP99VsIdeal: round2(direct.totalP99 / idealMs),
      directGapP99: round2(direct.gapP99),
      brookGapP99: round2(brook.gapP99),
      brookPeakOpen: brook.peakOpen,
      idleRssMb: round2(brook.idleRssMb),
      peakRssMb: round2(brook.peakRssMb),
      rssPerStreamKb: brook.rssPerStreamKb === null ? null : round2(brook.rssPerStreamKb),
      heldOpen: held.open,
      heldRssKb: round2(held.rssKb),
      heldHeapKb: round2(held.heapKb),
    };
    context.log(
      `capacity ${streams}: errors ${row.errors} (direct ${row.directErrors}) · p99 total ${row.brookTotalP99} ms = ${row.totalP99VsIdeal}× ideal (direct ${row.directTotalP99VsIdeal}×) · p99 gap ${row.brookGapP99} ms (direct ${row.directGapP99}) · RSS ${row.rssPerStreamKb} KB/stream at peak, ${row.heldRssKb} KB held after GC (heap ${row.heldHeapKb} KB, ${row.heldOpen} open)`,
    );
    rows.push(row);
  }
  return rows;
}

/**
 * Memory an open stream holds, apart from the garbage a busy step churns: `streams` slow streams
 * are held open in a fresh Brook until it runs all of them, then its memory is read after a full GC and
 * compared with the same reading before they opened.
 */
async function measureHeld(context: Context, streams: number) {
  // A fresh process, warmed up: RSS after a busy step stays high long after its garbage is gone.
  await context.restartBrook();
  const warmAgent = newAgent();
  await runPool(200, 16, () => runRequest("rest", context.targets, { tokens: 5, delayMs: 0 }, { agent: warmAgent }));
  warmAgent.destroy();
  const idle = await context.brook.memory(true);
  const agent = newAgent();
  const addresses = context.sourceAddresses;
  const pending: Promise<RequestResult>[] = [];
  for (let index = 0; index < streams; index++) {
    // Slower waves than a step's: the figure is memory, and a connection storm only fills the accept queue.
    if (index > 0 && index % connectWave === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    const localAddress = addresses.length > 1 ? addresses[index % addresses.length] : undefined;
    pending.push(
      runRequest(
        "rest",
        context.targets,
        { tokens: 120, delayMs: 500 },
        {
          agent,
          ...(localAddress === undefined ? {} : { localAddress }),
        },
      ),
    );
  }
  const active = async () =>
    ((await (await fetch(`${context.targets.brookUrl}/health`)).json()) as { active_runs: number }).active_runs;
  const deadline = performance.now() + 45_000;
  let open = await active();
  while (open < streams && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    open = await active();
  }
  const held = await context.brook.memory(true);
  open = Math.max(1, Math.min(open, await active()));
  // Closing the connections cancels the runs.
  agent.destroy();
  await Promise.all(pending);
  while ((await active()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    open,
    rssKb: (held.rss - idle.rss) / 1024 / open,
    heapKb: (held.heapUsed - idle.heapUsed) / 1024 / open,
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Soak

export async function measureSoak(context: Context, config: BenchConfig["soak"]) {
  const shape = { tokens: config.tokens, delayMs: 0 };
  const agent = newAgent();
  const run = (count: number) =>
    runPool(count, config.concurrency, () => runRequest("rest", context.targets, shape, { agent }));
  await run(Math.min(5_000, Math.ceil(config.requests / 10)));
  const before = await context.brook.memory(true);
  const startedAt = performance.now();
  const results = await run(config.requests);
  const seconds = (performance.now() - startedAt) / 1000;
  const after = await context.brook.memory(true);
  agent.destroy();
  const summary = summarize(results);
  const mb = (bytes: number) => round2(bytes / 1024 / 1024);
  const row = {
    requests: config.requests,
    errors: summary.errors,
    sampleErrors: summary.sampleErrors,
    requestsPerSecond: Math.round(config.requests / seconds),
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    heapBeforeMb: mb(before.heapUsed),
    heapAfterMb: mb(after.heapUsed),
    heapGrowthMb: mb(after.heapUsed - before.heapUsed),
    rssGrowthMb: mb(after.rss - before.rss),
  };
  context.log(
    `soak: ${row.requests} requests at ${row.requestsPerSecond}/s · errors ${row.errors} · heap ${row.heapBeforeMb} → ${row.heapAfterMb} MB · RSS ${row.rssBeforeMb} → ${row.rssAfterMb} MB`,
  );
  return row;
}
