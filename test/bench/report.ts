/** The benchmark's results as JSON and as a Markdown table, and the README section built from it. */
import { readFileSync, writeFileSync } from "node:fs";

export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  mode: "full" | "quick";
  brook: "build" | "source";
  fileLimit: number;
}

// biome-ignore lint/suspicious/noExplicitAny: rows are plain JSON written by the scenarios
type Row = any;

export interface Results {
  machine: Machine;
  ttft?: Row[];
  relay?: Row;
  capacity?: Row[];
  paths?: Row;
  attachments?: Row;
  soak?: Row;
  scaleout?: Row;
  workers?: Row;
  paced?: Row;
  peers?: Row;
}

const ms = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? "–" : `${value} ms`);
const times = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? "–" : `${value}×`);
const count = (value: number | undefined) => (value === undefined ? "–" : value.toLocaleString("en-US"));

export function toMarkdown(results: Results): string {
  const { machine } = results;
  const intro =
    `Measured ${machine.date.slice(0, 10)} on ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}` +
    ` (\`pnpm bench${machine.mode === "quick" ? " --quick" : ""}\`). The fake upstream, Brook${results.peers !== undefined || results.paced !== undefined ? ", the peers" : ""} and the load generator share the machine.`;
  const rows: string[][] = [];
  const lines = { push: (line: string) => rows.push(line.slice(2, -2).split(" | ")) };
  /** Why each missed target was missed, in words, below the table. */
  const missed: string[] = [];
  const verdict = (target: string, met: boolean, why: string) => {
    if (!met) missed.push(why);
    return `${target}: ${met ? "met" : "**not met**"}`;
  };
  for (const row of results.ttft ?? []) {
    const target =
      row.concurrency === 32
        ? verdict(
            "≤ 0.5 ms / ≤ 3 ms",
            row.addedP50 <= 0.5 && row.addedP99 <= 3,
            `Added time to first token at 32 at a time (${ms(row.addedP50)} / ${ms(row.addedP99)}): 32 paced streams share 2 cores with the fake upstream and the load generator, so most of what is added is a wait for a core; one at a time, Brook adds ${ms(results.ttft?.[0]?.addedP50)} at p50.`,
          )
        : "";
    const pacing = row.delayMs > 0 ? `, ${row.tokens} tokens ${row.delayMs} ms apart` : "";
    lines.push(
      `| Added time to first token p50 / p99, ${row.concurrency} at a time${pacing} | ${target} | ${ms(row.addedP50)} / ${ms(row.addedP99)} | direct ${ms(row.directP50)} / ${ms(row.directP99)}, through Brook ${ms(row.brookP50)} / ${ms(row.brookP99)} |`,
    );
  }
  const relay = results.relay;
  if (relay !== undefined) {
    lines.push(
      `| Relay throughput, ${relay.tokens}-token answers | ${verdict("≥ 0.6× direct", relay.ratio >= 0.6, `Relay throughput (${times(relay.ratio)} direct): the direct path is the load generator reading the fake upstream with nothing in between; through Brook each event is parsed, encoded again and written once more (${relay.brookCpuMicrosPerEvent} µs of Brook's CPU per event), and the three processes share 2 cores, so Brook's share of the cores bounds the ratio.`)} | ${times(relay.ratio)} | ${count(relay.brookEventsPerSecond)} vs ${count(relay.directEventsPerSecond)} content events/s; Brook CPU ${relay.brookCpuMicrosPerEvent} µs per event |`,
    );
  }
  for (const row of results.capacity ?? []) {
    if (row.skipped !== undefined) {
      lines.push(`| ${count(row.streams)} concurrent streams |  | skipped | ${row.skipped} |`);
      continue;
    }
    const target =
      row.streams === 5_000
        ? verdict(
            "0 errors, ≤ 1.5× ideal, ≤ 20 KB",
            row.errors === 0 && row.totalP99VsIdeal <= 1.5 && (row.heldRssKb ?? Number.POSITIVE_INFINITY) <= 20,
            `5,000 concurrent streams (${row.errors} errors, ${times(row.totalP99VsIdeal)} ideal, ${row.heldRssKb ?? "?"} KB per stream): even the direct path takes ${ms(row.directTotalP99)} at p99 against an ideal of ${ms(row.idealMs)}, so 2 shared cores are the limit at this size; an open stream holds two sockets and their Node buffers in Brook, above 20 KB of RSS.`,
          )
        : "";
    lines.push(
      `| ${count(row.streams)} concurrent streams (50 tokens, 20 ms apart): errors, p99 total vs ideal, RSS per open stream | ${target} | ${row.errors}, ${times(row.totalP99VsIdeal)}, ${row.heldRssKb ?? "?"} KB | p99 total ${ms(row.brookTotalP99)} (direct ${ms(row.directTotalP99)}, ideal ${ms(row.idealMs)}); p99 gap between chunks ${ms(row.brookGapP99)} (direct ${ms(row.directGapP99)}); memory held per open stream after a full GC ${row.heldRssKb ?? "?"} KB RSS, ${row.heldHeapKb ?? "?"} KB heap (${count(row.heldOpen ?? 0)} open); RSS at the busiest moment, garbage included, ${row.rssPerStreamKb} KB per stream |`,
    );
  }
  const paths = results.paths;
  if (paths !== undefined) {
    lines.push(
      `| tRPC subscription vs REST stream | ${verdict("≥ 0.5×", paths.trpcRatio >= 0.5, `tRPC subscription vs REST (${times(paths.trpcRatio)}).`)} | ${times(paths.trpcRatio)} | ${count(paths.trpcEventsPerSecond)} vs ${count(paths.restEventsPerSecond)} content events/s; Brook CPU ${paths.trpcCpuMicrosPerEvent} vs ${paths.restCpuMicrosPerEvent} µs per event |`,
    );
    for (const [name, side] of [
      ["AI SDK UI message stream (`/api/chat`)", paths.aisdk],
      ["OpenAI chat completions stream (`/v1`)", paths.openai],
      ["OpenAI Responses stream (`/v1/responses`)", paths.responses],
    ] as const) {
      if (side === undefined) continue;
      lines.push(
        `| ${name} vs REST stream: events/s, CPU per event, TTFT p50 | ${verdict("each within 15%", side.ratio >= 0.85 && side.cpuRatio <= 1.15 && side.ttftRatio <= 1.15, `${name} vs REST (${times(side.ratio)} events/s, ${times(side.cpuRatio)} CPU per event, ${times(side.ttftRatio)} TTFT): its encoder writes more bytes per event than the seed's format.`)} | ${times(side.ratio)}, ${times(side.cpuRatio)}, ${times(side.ttftRatio)} | ${count(side.eventsPerSecond)} vs ${count(paths.restEventsPerSecond)} content events/s; Brook CPU ${side.cpuMicrosPerEvent} vs ${paths.restCpuMicrosPerEvent} µs per event; TTFT p50 ${ms(side.ttftP50)} vs ${ms(paths.restTtftP50)} (added ${ms(side.addedTtftP50)}) |`,
      );
    }
    const structured = paths.structured;
    if (structured !== undefined) {
      lines.push(
        `| Typed answer (\`output.schema\`) vs text answer, REST stream: events/s, CPU per content token, TTFT p50 |  | ${times(structured.ratio)}, ${times(structured.cpuRatio)}, ${times(structured.ttftRatio)} | ${count(structured.eventsPerSecond)} vs ${count(paths.restEventsPerSecond)} content events/s, plus ${count(structured.objectsPerSecond)} \`object\` events/s (${structured.objectsPerContent} per content event: one parse per network read); Brook CPU ${structured.cpuMicrosPerEvent} vs ${paths.restCpuMicrosPerEvent} µs per content token, ${structured.cpuMicrosPerRelayedEvent} µs per relayed event (content + object); TTFT p50 ${ms(structured.ttftP50)} vs ${ms(paths.restTtftP50)} (added ${ms(structured.addedTtftP50)}) |`,
      );
    }
    lines.push(
      `| Non-streaming \`POST /chat\` |  | ${count(paths.brookJsonRequestsPerSecond)} req/s | ${times(paths.jsonRatio)} the upstream's own non-streaming ${count(paths.directJsonRequestsPerSecond)} req/s |`,
    );
  }
  const attachments = results.attachments;
  if (attachments !== undefined) {
    lines.push(
      `| A ${count(Math.round(attachments.imageBytes / 1024))} KiB image: added before the upstream call (decode, checks), p50 | – | ${ms(attachments.imageCostP50)} | Brook adds ${ms(attachments.imageAddedP50)} at p50 (${ms(attachments.imageAddedP99)} at p99) with the image, ${ms(attachments.textAddedP50)} without; ${count(attachments.requests)} requests of each, one at a time |`,
    );
  }
  const soak = results.soak;
  if (soak !== undefined) {
    lines.push(
      `| Soak: ${count(soak.requests)} short streams, heap and RSS growth | ${verdict("none", soak.errors === 0 && soak.heapGrowthMb <= 1, `Soak (${soak.heapGrowthMb} MB of heap after ${count(soak.requests)} streams).`)} | ${soak.heapGrowthMb} MB heap, ${soak.rssGrowthMb} MB RSS | ${soak.errors} errors at ${count(soak.requestsPerSecond)} req/s; heap ${soak.heapBeforeMb} → ${soak.heapAfterMb} MB, RSS ${soak.rssBeforeMb} → ${soak.rssAfterMb} MB (after a full GC) |`,
    );
  }
  const scale = results.scaleout;
  if (scale !== undefined) {
    lines.push(
      `| Several instances (\`REDIS_URL\`): a reader on another instance vs one on the producing instance, ${scale.tokens}-token answers |  | ${times(scale.remoteRatio)} | ${count(scale.remoteEventsPerSecond)} vs ${count(scale.localEventsPerSecond)} content events/s; CPU of both instances ${scale.remoteCpuMicrosPerEvent} vs ${scale.localCpuMicrosPerEvent} µs per event |`,
    );
    lines.push(
      `| Added delivery delay of a reader on another instance, p50 / p99 |  | ${ms(scale.delayP50)} / ${ms(scale.delayP99)} | ${count(scale.delayEvents)} content events of paced answers read on both instances at once |`,
    );
    lines.push(
      `| Brook CPU per event with \`REDIS_URL\` set vs unset (tRPC subscription) | ${verdict("≤ 25% more", scale.cpuIncrease <= 0.25, `CPU with REDIS_URL (${Math.round(scale.cpuIncrease * 100)}% more): each batch of a run is a call to Redis (one script, a write and a read on another socket, and the client's command machinery around it); the two Brooks measured are also not equally warm (the one without Redis has served every earlier section), so the figure moves from run to run.`)} | ${scale.cpuIncrease >= 0 ? "+" : ""}${Math.round(scale.cpuIncrease * 100)}% | ${scale.setCpuMicrosPerEvent} vs ${scale.unsetCpuMicrosPerEvent} µs per event |`,
    );
    const paced = scale.paced;
    if (paced !== undefined) {
      lines.push(
        `| Brook CPU per event with \`REDIS_URL\` set vs unset, paced (tRPC subscription, ${paced.concurrency} streams × ${paced.tokens} tokens ${paced.delayMs} ms apart) | ${verdict("≤ 15% more", paced.cpuIncrease <= 0.15, `CPU with REDIS_URL at a model's pace (${Math.round(paced.cpuIncrease * 100)}% more): each window's events of a run are one call to Redis, and at this pace a 5 ms window holds one event, so each event pays a call's command machinery and its garbage (see docs/performance.md).`)} | ${paced.cpuIncrease >= 0 ? "+" : ""}${Math.round(paced.cpuIncrease * 100)}% | ${paced.setCpuMicrosPerEvent} vs ${paced.unsetCpuMicrosPerEvent} µs per event |`,
      );
    }
    lines.push(
      `| Redis memory per finished run (${scale.tokens} events) |  | ${scale.redisKbPerRun} KB | kept for RUN_RETENTION_MS |`,
    );
    const capacity = scale.capacity;
    lines.push(
      `| ${count(capacity.streams)} concurrent streams (${capacity.tokens} tokens, ${capacity.delayMs} ms apart): two instances vs one |  | ${ms(capacity.two.totalP99)} vs ${ms(capacity.one.totalP99)} | p99 total (ideal ${ms(capacity.one.idealMs)}); errors ${capacity.two.errors} vs ${capacity.one.errors} |`,
    );
  }
  const workers = results.workers;
  if (workers !== undefined) {
    for (const [path, title] of [
      ["rest", "REST stream (nothing in Redis)"],
      ["trpc", "tRPC subscription (every event in Redis)"],
    ] as const) {
      const two = workers[path];
      if (two === undefined) continue;
      const { one } = two;
      const busy = (side: Row) =>
        `Brook ${side.cores.brook}, fake upstream ${side.cores.upstream}, load generator ${side.cores.generator}, Redis ${side.cores.redis}`;
      lines.push(
        `| \`WORKERS=2\` vs \`WORKERS=1\` (same \`REDIS_URL\`), ${title}, ${workers.tokens}-token answers ${workers.concurrency} at a time: events/s, CPU per event (primary and workers summed), p99 total |  | ${times(two.eventsRatio)}, ${micros(two.cpuMicrosPerEvent)} vs ${micros(one.cpuMicrosPerEvent)}, ${ms(two.totalP99)} vs ${ms(one.totalP99)} | ${count(two.eventsPerSecond)} vs ${count(one.eventsPerSecond)} content events/s; errors ${two.errors} vs ${one.errors}; RSS ${two.rssMb} MB (${two.processes} processes: the primary and its workers) vs ${one.rssMb} MB; cores busy (CPU s per s) with 2 workers: ${busy(two)}; with 1: ${busy(one)}: the load generator, the fake upstream and Redis share the same ${workers.cores} cores as Brook |`,
      );
    }
  }
  const parts = [intro];
  if (rows.length > 0) parts.push(table(["Measure", "Target", "Brook", "Details"], rows));
  if (results.peers !== undefined) parts.push(peerTable(results.peers, results.paced));
  if (results.paced !== undefined) parts.push(pacedTable(results.paced, verdict));
  const notes =
    missed.length === 0
      ? "Every target was met."
      : `Targets not met, and why:\n\n${missed.map((why) => `- ${why}`).join("\n")}`;
  return `${parts.map((part) => part.trimEnd()).join("\n\n")}\n\n${notes}\n`;
}

const peerTitles: Record<string, string> = {
  "openai-relay": "Fastify + `openai` relay",
  "ai-sdk-server": "AI SDK `streamText` server",
  baseline: "Brook, the `--baseline` build",
};
const micros = (value: number | null | undefined) => (value === null || value === undefined ? "–" : `${value} µs`);
const kb = (value: number | null | undefined) => (value === null || value === undefined ? "–" : `${value} KB`);

/** Brook against the peers, figure by figure, with Brook ÷ each peer. */
function peerTable(peers: Row, paced: Row | undefined): string {
  const names = Object.keys(peers.peers ?? {});
  const header = ["Measure", "Brook", ...names.flatMap((name) => [peerTitles[name] ?? name, "Brook ÷ it"])];
  const rows: string[][] = [];
  const add = (
    measure: string,
    brook: string,
    cell: (peer: Row, name: string) => [string, number | null | undefined],
  ) =>
    rows.push([
      measure,
      brook,
      ...names.flatMap((name) => {
        const [value, ratio] = cell(peers.peers[name], name);
        return [value, times(ratio ?? undefined)];
      }),
    ]);
  const { brook, capacity } = peers;
  add(
    `CPU per event, ${peers.tokens}-token answers, ${peers.concurrency} at a time`,
    micros(brook.cpuMicrosPerEvent),
    (it) => [micros(it.cpuMicrosPerEvent), it.brookRatio.cpuPerEvent],
  );
  add("Content events per second, same load", count(brook.eventsPerSecond), (it) => [
    count(it.eventsPerSecond),
    it.brookRatio.eventsPerSecond,
  ]);
  add(`Time to first token p50, one at a time (direct ${ms(peers.direct.ttftP50)})`, ms(brook.ttftP50), (it) => [
    ms(it.ttftP50),
    it.brookRatio.ttftP50,
  ]);
  add(`Memory per open stream (RSS after a full GC, ${count(peers.streams)} open)`, kb(brook.heldRssKb), (it) => [
    kb(it.heldRssKb),
    it.brookRatio.memoryPerStream,
  ]);
  add(
    `p99 total time, ${count(peers.streams)} streams of ${capacity.tokens} tokens ${capacity.delayMs} ms apart (direct ${ms(peers.direct.totalP99)}, ideal ${ms(capacity.idealMs)})`,
    ms(brook.totalP99),
    (it) => [ms(it.totalP99), it.brookRatio.totalP99],
  );
  if (paced !== undefined) {
    add(
      `CPU per event, paced (${count(paced.streams)} streams, ${paced.tokens} tokens ${paced.delayMs} ms apart)`,
      micros(paced.brookCpuMicrosPerEvent),
      (_, name) => [micros(paced.relays[name]?.cpuMicrosPerEvent), paced.relays[name]?.brookRatio],
    );
  }
  return `Brook (\`POST /chat/stream\`) against what users would write instead, same upstream, same sitting; each ratio is Brook ÷ the peer (below 1× is Brook leaner or faster, except events per second, where above 1× is Brook ahead):\n\n${table(header, rows)}`;
}

const pacedTitles: Record<string, string> = {
  rest: "Brook `POST /chat/stream`",
  trpc: "Brook tRPC subscription",
  aisdk: "Brook AI SDK UI message stream (`/api/chat`)",
  openai: "Brook OpenAI chat completions stream (`/v1`)",
  "openai-relay": "hand-written Fastify + `openai` relay",
  "ai-sdk-server": "AI SDK `streamText` server",
  baseline: "Brook `POST /chat/stream`, the `--baseline` build",
};

/** CPU per relayed event on paced answers: the model server's own cost, each Brook surface and each peer. */
function pacedTable(paced: Row, verdict: (target: string, met: boolean, why: string) => string): string {
  const shape = `${count(paced.streams)} streams, ${paced.tokens} tokens ${paced.delayMs} ms apart`;
  const rows: string[][] = [
    [
      "the fake model server producing each event",
      micros(paced.modelServerCpuMicrosPerEvent),
      times(paced.brookVsModelServer ?? undefined),
      paced.brookVsModelServer === null
        ? ""
        : verdict(
            "≤ 2×",
            paced.brookVsModelServer <= 2,
            `Paced, Brook vs the model server's own cost (${times(paced.brookVsModelServer)}): the model server only writes each event, Brook also reads it (the kernel's loopback receive, undici's HTTP parser, the event-stream parse) and pays each request's start (Fastify, the run, the upstream request), which 50 tokens share (see docs/performance.md).`,
          ),
    ],
  ];
  for (const [path, relay] of Object.entries(paced.relays as Record<string, Row>)) {
    const target =
      path === "openai-relay" && relay.brookRatio !== null
        ? verdict(
            "≤ 0.6×",
            relay.brookRatio <= 0.6,
            `Paced, Brook vs the hand-written relay (${times(relay.brookRatio)}): with one chunk per read, Brook's batching has nothing to batch, and both pay the same socket write per event.`,
          )
        : "";
    rows.push([
      pacedTitles[path] ?? path,
      micros(relay.cpuMicrosPerEvent),
      path === "rest" ? "–" : times(relay.brookRatio ?? undefined),
      target,
    ]);
  }
  return `CPU per relayed event on paced answers (${shape}, one chunk per upstream read; ${paced.errors} errors):\n\n${table(["CPU per relayed event, paced", "µs", "Brook REST ÷ it", "Target"], rows)}`;
}

/** A Markdown table with padded columns, as the formatter writes it. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(3, title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${widths.map((width, column) => (cells[column] ?? "").padEnd(width)).join(" | ")} |`;
  return `${[line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n")}\n`;
}

const begin = "<!-- bench:begin -->";
const end = "<!-- bench:end -->";

/** Puts `markdown` between the benchmark markers of the README. */
export function updateReadme(readmePath: string, markdown: string): boolean {
  const readme = readFileSync(readmePath, "utf8");
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return false;
  writeFileSync(readmePath, `${readme.slice(0, from + begin.length)}\n${markdown}${readme.slice(to)}`);
  return true;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions that spent most time themselves (not in callees) in a V8 CPU profile. */
export function topSelfTime(profilePath: string, limit = 30): string {
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as { nodes: ProfileNode[] };
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    all += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*node_modules\/(\.pnpm\/)?/, "").replace(/^file:\/\/.*?\/packages\//, "packages/");
    const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + hits);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, hits]) => `${((hits / all) * 100).toFixed(1).padStart(5)}%  ${key}`)
    .join("\n");
}
