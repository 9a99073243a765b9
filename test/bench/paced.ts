/**
 * The paced workload: answers paced like a real model's (one chunk per upstream write, so one per
 * read), many streams at once, on every relay in the same sitting — the model server hit directly,
 * Brook's surfaces and the peers — with the CPU each spends per relayed event.
 */
import type { PeerName } from "./bench-processes.js";
import type { Path } from "./load.js";
import { type BenchConfig, type Context, compareThroughput, round2 } from "./scenarios.js";

/** Brook's surfaces measured on the paced workload, REST first. */
const brookPaths = ["rest", "trpc", "aisdk", "openai"] as const;

export async function measurePaced(context: Context, config: BenchConfig["paced"]) {
  const peers = Object.keys(context.peers ?? {}) as PeerName[];
  const paths: Path[] = ["direct", ...brookPaths, ...peers];
  const { sides, sampleErrors } = await compareThroughput(
    context,
    paths,
    { tokens: config.tokens, delayMs: config.delayMs },
    { roundMs: config.roundMs, rounds: config.rounds, concurrency: config.streams },
  );
  const sideOf = (path: Path) => sides.find((side) => side.path === path);
  const modelServer = sideOf("direct")?.upstreamCpuMicrosPerEvent ?? null;
  const brook = sideOf("rest")?.relayCpuMicrosPerEvent ?? null;
  const ratio = (of: number | null, to: number | null) =>
    of === null || to === null || to === 0 ? null : round2(of / to);
  const relays = Object.fromEntries(
    sides
      .filter((side) => side.path !== "direct")
      .map((side) => [
        side.path,
        {
          cpuMicrosPerEvent: side.relayCpuMicrosPerEvent,
          /** Brook REST's CPU per event ÷ this relay's. */
          brookRatio: ratio(brook, side.relayCpuMicrosPerEvent),
          upstreamCpuMicrosPerEvent: side.upstreamCpuMicrosPerEvent,
          eventsPerSecond: side.eventsPerSecond,
          errors: side.errors,
        },
      ]),
  );
  const row = {
    streams: config.streams,
    tokens: config.tokens,
    delayMs: config.delayMs,
    /** The fake upstream's CPU per event while the load generator reads it directly. */
    modelServerCpuMicrosPerEvent: modelServer,
    brookCpuMicrosPerEvent: brook,
    brookVsModelServer: ratio(brook, modelServer),
    brookVsOpenaiRelay: ratio(brook, relays["openai-relay"]?.cpuMicrosPerEvent ?? null),
    brookVsAiSdkServer: ratio(brook, relays["ai-sdk-server"]?.cpuMicrosPerEvent ?? null),
    directEventsPerSecond: sideOf("direct")?.eventsPerSecond ?? 0,
    relays,
    errors: sides.reduce((sum, side) => sum + side.errors, 0),
    sampleErrors,
  };
  context.log(
    `paced (${config.streams} streams × ${config.tokens} tokens ${config.delayMs} ms apart), CPU per event: model server ${modelServer} µs · ${Object.entries(
      relays,
    )
      .map(([path, relay]) => `${path} ${relay.cpuMicrosPerEvent} µs (Brook ÷ it ${relay.brookRatio})`)
      .join(" · ")} · errors ${row.errors}`,
  );
  return row;
}
