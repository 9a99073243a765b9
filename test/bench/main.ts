/**
 * `pnpm bench`: Brook against the physical limit and against what users would write instead.
 * Starts the fake upstream, Brook and the peers in their own processes, drives them from this one,
 * and writes test/bench/results/latest.{json,md}.
 *
 *   --quick            a smaller run (about four minutes)
 *   --source           run Brook from its sources (tsx) instead of building it first
 *   --only=a,b         only these sections: ttft, relay, paths, attachments, paced, soak, scaleout, workers, peers, capacity
 *   --steps=1000,5000  the capacity steps
 *   --soak=N           soak requests
 *   --paced=N          streams at once in the paced section (default 128)
 *   --peer-streams=N   streams open at once for the peer table's memory and p99 figures
 *   --round-ms=N       length of each measured round (relay, paths, paced, peers)
 *   --profile=SECTION  record a CPU profile of Brook during one section (e.g. relay)
 *   --readme           put the table in docs/performance.md
 *   --out=DIR          where results go (default test/bench/results)
 *   --baseline=MAIN    another build of Brook (its packages/server/dist/main.js), measured beside this
 *                      one in the paced and peer sections: a change's before and after in one sitting
 *
 * BENCH_BROOK_FLAGS="--trace-gc …" passes extra Node flags to the Brook process.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, platform, release } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { attachmentBench, measureAttachments } from "./attachment-latency.js";
import {
  ephemeralPortCount,
  type PeerName,
  peerNames,
  raiseFileLimit,
  type ServerProcess,
  startBrook,
  startPeer,
  startUpstream,
} from "./bench-processes.js";
import { measurePaced } from "./paced.js";
import { measurePeers } from "./peer-comparison.js";
import { type Machine, type Results, toMarkdown, topSelfTime, updateReadme } from "./report.js";
import { fullScaleOut, measureScaleOut, quickScaleOut, type ScaleOutConfig } from "./scale-out.js";
import {
  type BenchConfig,
  type Context,
  fullConfig,
  measureCapacity,
  measurePaths,
  measureRelay,
  measureSoak,
  measureTtft,
  quickConfig,
} from "./scenarios.js";
import { fullWorkers, measureWorkers, quickWorkers, type WorkersConfig } from "./workers.js";

const sections = [
  "ttft",
  "relay",
  "capacity",
  "paths",
  "attachments",
  "paced",
  "soak",
  "scaleout",
  "workers",
  "peers",
] as const;
type Section = (typeof sections)[number];

export interface BenchOptions {
  config: BenchConfig;
  /** The scale-out section's sizes (default: by mode). */
  scaleOut?: ScaleOutConfig;
  /** The workers section's sizes (default: by mode). */
  workers?: WorkersConfig;
  mode: "full" | "quick";
  /** Run Brook from `dist` (build it first) or from its sources. */
  brookFrom: "build" | "source";
  only: readonly Section[];
  /** Record a CPU profile of Brook during this section, into `profileDir`. */
  profile?: { section: Section; dir: string };
  /** Another build of Brook (its `main.js`), measured beside this one in the paced and peer sections. */
  baseline?: string | undefined;
  log: (line: string) => void;
}

/** Runs the chosen sections against fresh processes and returns the results. */
export async function runBench(options: BenchOptions): Promise<Results> {
  const { config, log } = options;
  const withPeers = options.only.includes("peers");
  const largestStep = Math.max(
    options.only.includes("capacity") ? Math.max(0, ...config.capacity.steps) : 0,
    withPeers ? config.peers.streams : 0,
  );
  const fileLimit = raiseFileLimit(Math.max(4_096, largestStep * 3 + 2_000));
  // The peer table opens its streams seven times: held by Brook and each peer, loaded on each and directly.
  const stepTotal =
    (options.only.includes("capacity") ? config.capacity.steps.reduce((sum, step) => sum + step, 0) : 0) +
    (withPeers ? config.peers.streams * 7 : 0);
  const sourceAddresses = await pickSourceAddresses(stepTotal);
  const machine: Machine = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: (cpus()[0]?.model ?? "unknown").trim(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    mode: options.mode,
    brook: options.brookFrom,
    fileLimit,
  };
  log(
    `${machine.cores} cores (${machine.cpu}), Node ${machine.node}; open-file limit ${fileLimit}; ${sourceAddresses.length} source address(es)`,
  );
  const upstream = await startUpstream();
  const firstBrook = await startBrook(upstream.url, options.brookFrom);
  const peers: Partial<Record<PeerName, ServerProcess>> = {};
  const peerUrls = () => Object.fromEntries(Object.entries(peers).map(([name, peer]) => [name, peer.url]));
  const context: Context = {
    targets: { upstreamUrl: upstream.url, brookUrl: firstBrook.url, peerUrls: peerUrls() },
    brook: firstBrook,
    restartBrook: async () => {
      await context.brook.stop();
      context.brook = await startBrook(upstream.url, options.brookFrom);
      context.targets = { ...context.targets, brookUrl: context.brook.url };
    },
    upstream,
    peers,
    restartPeer: async (name) => {
      await peers[name]?.stop();
      peers[name] =
        name === "baseline"
          ? await startBrook(upstream.url, { main: options.baseline as string })
          : await startPeer(name, upstream.url);
      context.targets = { ...context.targets, peerUrls: peerUrls() };
    },
    sourceAddresses,
    log,
  };
  const results: Results = { machine };
  const section = async <T>(name: Section, measure: () => Promise<T>): Promise<T | undefined> => {
    if (!options.only.includes(name)) return undefined;
    let profile = options.profile?.section === name ? join(options.profile.dir, `${name}.cpuprofile`) : undefined;
    // Capacity restarts Brook for every step: each step profiles its own process.
    if (profile !== undefined && name === "capacity") {
      context.profileDir = options.profile?.dir;
      profile = undefined;
    }
    if (profile !== undefined) await context.brook.startProfile();
    const result = await measure();
    if (profile !== undefined) {
      await context.brook.stopProfile(profile);
      log(`CPU profile of Brook: ${profile}\n${topSelfTime(profile)}`);
    }
    return result;
  };
  try {
    // The peers run beside Brook, against the same upstream, when a section compares with them.
    if (withPeers || options.only.includes("paced")) {
      for (const name of peerNames) peers[name] = await startPeer(name, upstream.url);
      if (options.baseline !== undefined) peers.baseline = await startBrook(upstream.url, { main: options.baseline });
      context.targets = { ...context.targets, peerUrls: peerUrls() };
    }
    results.ttft = await section("ttft", () => measureTtft(context, config.ttft));
    results.relay = await section("relay", () => measureRelay(context, config.relay));
    results.paths = await section("paths", () => measurePaths(context, config.paths));
    results.attachments = await section("attachments", () =>
      measureAttachments(context, options.mode === "quick" ? attachmentBench.quick : attachmentBench.full),
    );
    results.paced = await section("paced", () => measurePaced(context, config.paced));
    results.soak = await section("soak", () => measureSoak(context, config.soak));
    results.scaleout = await section("scaleout", () =>
      measureScaleOut(
        context,
        upstream.url,
        options.brookFrom,
        options.scaleOut ?? (options.mode === "quick" ? quickScaleOut : fullScaleOut),
      ),
    );
    results.workers = await section("workers", () =>
      measureWorkers(
        context,
        upstream.url,
        options.brookFrom,
        options.workers ?? (options.mode === "quick" ? quickWorkers : fullWorkers),
      ),
    );
    results.peers = await section("peers", () => measurePeers(context, config.peers));
    // Last: thousands of streams leave the most behind (sockets in TIME_WAIT, a grown heap).
    results.capacity = await section("capacity", () => measureCapacity(context, config.capacity, fileLimit));
  } finally {
    await context.brook.stop();
    for (const peer of Object.values(peers)) await peer.stop();
    await upstream.stop();
  }
  return results;
}

/**
 * One source address is enough while the generator's connections to one server (all capacity
 * steps, as closed ones linger in TIME_WAIT) fit in the ephemeral port range with room to spare;
 * beyond that, spread them over 127.0.0.x.
 */
async function pickSourceAddresses(connections: number): Promise<string[]> {
  const needed = Math.ceil((connections * 1.5) / ephemeralPortCount());
  const addresses = ["127.0.0.1"];
  for (let host = 2; addresses.length < needed && host < 64; host++) {
    const address = `127.0.0.${host}`;
    if (await canBind(address)) addresses.push(address);
    else break;
  }
  return addresses;
}

function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      source: { type: "boolean", default: false },
      only: { type: "string" },
      steps: { type: "string" },
      soak: { type: "string" },
      paced: { type: "string" },
      "peer-streams": { type: "string" },
      "round-ms": { type: "string" },
      profile: { type: "string" },
      readme: { type: "boolean", default: false },
      out: { type: "string" },
      baseline: { type: "string" },
    },
  });
  const mode = values.quick ? "quick" : "full";
  const config: BenchConfig = structuredClone(values.quick ? quickConfig : fullConfig);
  if (values.steps !== undefined) config.capacity.steps = values.steps.split(",").map(Number);
  if (values.soak !== undefined) config.soak.requests = Number(values.soak);
  if (values.paced !== undefined) config.paced.streams = Number(values.paced);
  if (values["peer-streams"] !== undefined) config.peers.streams = Number(values["peer-streams"]);
  if (values["round-ms"] !== undefined) {
    const roundMs = Number(values["round-ms"]);
    for (const part of [config.relay, config.paths, config.paced, config.peers]) part.roundMs = roundMs;
  }
  const only = (values.only?.split(",") ?? sections).filter((name): name is Section =>
    (sections as readonly string[]).includes(name),
  );
  const here = fileURLToPath(new URL(".", import.meta.url));
  const out = values.out ?? join(here, "results");
  mkdirSync(out, { recursive: true });
  const profileSection = sections.find((name) => name === values.profile);
  const profileDir = join(here, "profiles");
  if (profileSection !== undefined) mkdirSync(profileDir, { recursive: true });

  const startedAt = Date.now();
  if (!values.source) {
    console.log("Building Brook (pnpm build of shared and server)…");
    execFileSync("pnpm", ["--filter=@brook/shared", "--filter=@brook/server", "run", "build"], { stdio: "inherit" });
  }
  const results = await runBench({
    brookFrom: values.source ? "source" : "build",
    config,
    mode,
    only,
    ...(profileSection === undefined ? {} : { profile: { section: profileSection, dir: profileDir } }),
    baseline: values.baseline === undefined ? undefined : resolve(values.baseline),
    log: (line) => console.log(line),
  });
  const markdown = toMarkdown(results);
  writeFileSync(join(out, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, "latest.md"), markdown);
  // In the repository's own style, so that committed results pass the linter.
  try {
    execFileSync("pnpm", ["exec", "biome", "format", "--write", join(out, "latest.json"), join(out, "latest.md")], {
      stdio: "ignore",
    });
  } catch {
    // Formatting is a nicety: the results are written either way.
  }
  console.log(`\n${markdown}\nWritten to ${out} in ${Math.round((Date.now() - startedAt) / 1000)} s.`);
  if (values.readme) {
    const page = join(here, "..", "..", "docs", "performance.md");
    console.log(
      updateReadme(page, markdown) ? "docs/performance.md updated." : "docs/performance.md has no benchmark markers.",
    );
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
