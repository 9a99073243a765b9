/**
 * Brook against what users would write instead (the peers: a hand-written Fastify + `openai` relay
 * and an AI SDK `streamText` server), same upstream, same sitting: CPU per event and events per
 * second on bursty answers, time to first token, memory per open stream, p99 total time with many
 * streams open. Ratios are Brook ÷ the peer.
 */
import type { PeerName } from "./bench-processes.js";
import { newAgent, type Path, type RequestResult, runPool, runRequest, summarize } from "./load.js";
import {
  type BenchConfig,
  type Context,
  compareThroughput,
  compareTtft,
  connectWave,
  driveStep,
  relayOf,
  round2,
} from "./scenarios.js";

type Relay = "rest" | PeerName;

export async function measurePeers(context: Context, config: BenchConfig["peers"]) {
  const relays: Relay[] = ["rest", ...(Object.keys(context.peers ?? {}) as PeerName[])];
  const bursty = await compareThroughput(context, relays, { tokens: config.tokens, delayMs: 0 }, config);
  const ttft = await compareTtft(context, ["direct", ...relays], config.ttftRequests, config.rounds);
  const held = new Map<Relay, Awaited<ReturnType<typeof measureHeldOn>>>();
  for (const relay of relays) held.set(relay, await measureHeldOn(context, relay, config.streams));
  const shape = { tokens: config.capacity.tokens, delayMs: config.capacity.delayMs };
  const loaded = new Map<Path, ReturnType<typeof summarize>>();
  // Each relay is still the fresh process its memory figure was read from.
  for (const path of ["direct", ...relays] as Path[]) {
    const { results } = await driveStep(context, path, config.streams, shape);
    loaded.set(path, summarize(results));
  }

  const figures = (relay: Relay) => {
    const side = bursty.sides.find((candidate) => candidate.path === relay);
    const first = ttft.get(relay);
    const memory = held.get(relay);
    return {
      cpuMicrosPerEvent: side?.relayCpuMicrosPerEvent ?? null,
      eventsPerSecond: side?.eventsPerSecond ?? 0,
      ttftP50: round2(first?.ttftP50 ?? Number.NaN),
      ttftP99: round2(first?.ttftP99 ?? Number.NaN),
      heldRssKb: memory === undefined ? null : round2(memory.rssKb),
      heldHeapKb: memory === undefined ? null : round2(memory.heapKb),
      heldOpen: memory?.open ?? 0,
      totalP99: round2(loaded.get(relay)?.totalP99 ?? Number.NaN),
    };
  };
  const brook = figures("rest");
  // A ratio of figures that are not both positive (memory within noise at small counts) means nothing.
  const ratio = (of: number | null, to: number | null) =>
    of === null || to === null || !(of > 0 && to > 0 && Number.isFinite(of) && Number.isFinite(to))
      ? null
      : round2(of / to);
  const peers = Object.fromEntries(
    relays
      .filter((relay): relay is PeerName => relay !== "rest")
      .map((peer) => {
        const it = figures(peer);
        return [
          peer,
          {
            ...it,
            /** Brook ÷ this peer, figure by figure (events/s: higher is better; the rest: lower is better). */
            brookRatio: {
              cpuPerEvent: ratio(brook.cpuMicrosPerEvent, it.cpuMicrosPerEvent),
              eventsPerSecond: ratio(brook.eventsPerSecond, it.eventsPerSecond),
              ttftP50: ratio(brook.ttftP50, it.ttftP50),
              memoryPerStream: ratio(brook.heldRssKb, it.heldRssKb),
              totalP99: ratio(brook.totalP99, it.totalP99),
            },
          },
        ];
      }),
  );
  const errors =
    bursty.sides.reduce((sum, side) => sum + side.errors, 0) +
    [...ttft.values()].reduce((sum, summary) => sum + summary.errors, 0) +
    [...loaded.values()].reduce((sum, summary) => sum + summary.errors, 0);
  const row = {
    tokens: config.tokens,
    concurrency: config.concurrency,
    streams: config.streams,
    capacity: { ...config.capacity, idealMs: (config.capacity.tokens - 1) * config.capacity.delayMs },
    direct: {
      ttftP50: round2(ttft.get("direct")?.ttftP50 ?? Number.NaN),
      totalP99: round2(loaded.get("direct")?.totalP99 ?? Number.NaN),
    },
    brook,
    peers,
    errors,
    sampleErrors: [
      ...bursty.sampleErrors,
      ...[...ttft.values(), ...loaded.values()].flatMap((summary) => summary.sampleErrors),
    ].slice(0, 5),
  };
  for (const [peer, it] of Object.entries(peers)) {
    const by = it.brookRatio;
    context.log(
      `peers: Brook ÷ ${peer}: CPU/event ${brook.cpuMicrosPerEvent} vs ${it.cpuMicrosPerEvent} µs = ${by.cpuPerEvent}× · events/s ${brook.eventsPerSecond} vs ${it.eventsPerSecond} = ${by.eventsPerSecond}× · TTFT p50 ${brook.ttftP50} vs ${it.ttftP50} ms = ${by.ttftP50}× · memory/stream ${brook.heldRssKb} vs ${it.heldRssKb} KB = ${by.memoryPerStream}× · p99 at ${config.streams} ${brook.totalP99} vs ${it.totalP99} ms = ${by.totalP99}×`,
    );
  }
  context.log(`peers: errors ${errors}`);
  return row;
}

async function restart(context: Context, relay: Relay): Promise<void> {
  if (relay === "rest") await context.restartBrook();
  else await context.restartPeer?.(relay);
}

/**
 * Memory an open stream holds in `relay`, measured alike for Brook and the peers: a fresh process,
 * warmed up; `streams` slow streams opened (counted open once their first content event arrived);
 * RSS and heap after a full GC, against the same reading before they opened.
 */
async function measureHeldOn(context: Context, relay: Relay, streams: number) {
  await restart(context, relay);
  const server = relayOf(context, relay);
  if (server === undefined) throw new Error(`${relay} is not running`);
  const warmAgent = newAgent();
  await runPool(200, 16, () => runRequest(relay, context.targets, { tokens: 5, delayMs: 0 }, { agent: warmAgent }));
  warmAgent.destroy();
  const idle = await server.memory(true);
  const agent = newAgent();
  const addresses = context.sourceAddresses;
  const pending: Promise<RequestResult>[] = [];
  let open = 0;
  for (let index = 0; index < streams; index++) {
    if (index > 0 && index % connectWave === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    const localAddress = addresses.length > 1 ? addresses[index % addresses.length] : undefined;
    pending.push(
      runRequest(
        relay,
        context.targets,
        { tokens: 120, delayMs: 500 },
        {
          agent,
          ...(localAddress === undefined ? {} : { localAddress }),
          onFirstContent: () => {
            open += 1;
          },
        },
      ),
    );
  }
  const deadline = performance.now() + 45_000;
  while (open < streams && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const held = await server.memory(true);
  const counted = Math.max(1, open);
  // Closing the connections ends the streams.
  agent.destroy();
  await Promise.all(pending);
  return {
    open: counted,
    rssKb: (held.rss - idle.rss) / 1024 / counted,
    heapKb: (held.heapUsed - idle.heapUsed) / 1024 / counted,
  };
}
