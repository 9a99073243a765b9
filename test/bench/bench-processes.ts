/**
 * The benchmark's servers, each in its own process: the fast fake upstream, Brook (its real entry
 * point, from sources, configured as in production) and the peers Brook is compared with (what a
 * user would write instead, `peers/`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort } from "../support/free-port.js";

const rootRequire = createRequire(fileURLToPath(new URL("../../package.json", import.meta.url)));
const tsxLoader = pathToFileURL(rootRequire.resolve("tsx")).href;
const brookSource = fileURLToPath(new URL("../../packages/server/src/main.ts", import.meta.url));
const brookBuild = fileURLToPath(new URL("../../packages/server/dist/main.js", import.meta.url));
const upstreamMain = fileURLToPath(new URL("./bench-upstream.ts", import.meta.url));
const probe = new URL("./brook-probe.mjs", import.meta.url).href;

/** The peers: a hand-written Fastify + `openai` relay, and an AI SDK `streamText` server. */
export const peerNames = ["openai-relay", "ai-sdk-server"] as const;
/** A peer, or `baseline`: another build of Brook (`--baseline`), measured beside this one. */
export type PeerName = (typeof peerNames)[number] | "baseline";

/** What `brook-probe.mjs` answers. */
type ProbeQuestion =
  | { type: "memory"; gc: boolean; detail?: boolean }
  | { type: "cpu" }
  | { type: "processes" }
  | { type: "profile-start" }
  | { type: "profile-stop"; path: string }
  | { type: "heap-snapshot"; path: string };

export interface ProbeMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** With `detail`: each V8 heap space's resident size, and the process's resident memory by kind. */
  spaces?: Record<string, number>;
  mallocHeap?: number;
  anonymous?: number;
  fileBacked?: number;
}

export interface UpstreamProcess {
  url: string;
  pid: number;
  /** The fake upstream's CPU time so far, in microseconds: the model server's own cost. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export async function startUpstream(): Promise<UpstreamProcess> {
  const child = spawn(process.execPath, ["--import", probe, "--import", tsxLoader, upstreamMain], {
    stdio: ["pipe", "pipe", "inherit", "ipc"],
  });
  const ask = probeClient(child);
  const line = await firstLine(child, /^listening (\S+)/);
  return {
    url: line[1] as string,
    pid: child.pid as number,
    cpuMicros: () => cpuOf(ask),
    stop: () => stopChild(child),
  };
}

/** The process the benchmark started, and the workers it forked (WORKERS); `listening`: how many of those listen. */
export interface ProcessTree {
  pids: number[];
  listening: number;
}

/**
 * A relay the benchmark drives and measures: Brook or a peer. With WORKERS above 1, memory, CPU
 * time and RSS are summed over the primary and every worker.
 */
export interface ServerProcess {
  url: string;
  pid: number;
  /** Its memory, after a full GC when `gc` is set. */
  memory(gc: boolean, detail?: boolean): Promise<ProbeMemory>;
  /** Its CPU time so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Resident set size right now, read from /proc (Linux) without disturbing the processes (bytes). */
  rss(): Promise<number>;
  /** Its pids (the primary's first) and how many workers listen. */
  processes(): Promise<ProcessTree>;
  startProfile(): Promise<void>;
  stopProfile(path: string): Promise<void>;
  /** Writes a heap snapshot (after a full GC) to `path`. */
  heapSnapshot(path: string): Promise<void>;
  stop(): Promise<void>;
}

export type BrookProcess = ServerProcess;

/**
 * Starts Brook as `pnpm start` does: from its build (`dist`, as in production), from its
 * sources through tsx (no build needed; tsx adds a little per-call overhead of its own), or
 * from another build's `main.js` (to compare two versions side by side).
 */
export async function startBrook(
  upstreamUrl: string,
  from: "build" | "source" | { main: string },
  env: Record<string, string> = {},
): Promise<BrookProcess> {
  const port = await freePort();
  const entry =
    typeof from === "object"
      ? [from.main]
      : from === "build"
        ? [brookBuild]
        : ["--conditions=@brook/source", "--import", tsxLoader, brookSource];
  const flags = process.env.BENCH_BROOK_FLAGS?.split(" ").filter(Boolean) ?? [];
  return startProbed([...flags, ...entry], {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
    PORT: String(port),
    HOST: "127.0.0.1",
    OPENAI_BASE_URL: upstreamUrl,
    OPENAI_API_KEY: "bench",
    OPENAI_MODEL: "gpt-4o-mini",
    // The capacity steps hold thousands of streams at once: no cap on concurrent runs.
    MAX_CONCURRENT_RUNS: "0",
    // Idle connections stay open as long as the bench upstream keeps its own (120 s), as they would
    // behind a load balancer: a loaded client must not race Brook's default 5 s keep-alive close.
    KEEP_ALIVE_TIMEOUT_MS: "120000",
    ...env,
  });
}

/**
 * Starts a peer (`peers/<name>.ts`, run by Node as it is, without a loader) against the same
 * upstream, probed like Brook.
 */
export async function startPeer(name: (typeof peerNames)[number], upstreamUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  const entry = fileURLToPath(new URL(`./peers/${name}.ts`, import.meta.url));
  return startProbed([entry], {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "production",
    PORT: String(port),
    OPENAI_BASE_URL: upstreamUrl,
    OPENAI_API_KEY: "bench",
    OPENAI_MODEL: "gpt-4o-mini",
  });
}

/** Spawns `node --expose-gc --import probe …args` with `env` (its `PORT` on 127.0.0.1) and waits until `/health` answers. */
async function startProbed(args: string[], env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", probe, ...args], {
    env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = probeClient(child);
  const url = `http://127.0.0.1:${env.PORT}`;
  await waitUntilHealthy(url, child);
  const pid = child.pid as number;
  return {
    url,
    pid,
    memory: (gc, detail) => ask<ProbeMemory>({ type: "memory", gc, detail }),
    cpuMicros: () => cpuOf(ask),
    rss: async () => {
      // The primary only knows its workers' pids: asking it does not disturb them.
      const { pids } = await ask<ProcessTree>({ type: "processes" });
      let total = 0;
      try {
        for (const each of pids) {
          const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${each}/status`, "utf8"))?.[1];
          if (kb === undefined) throw new Error(`no VmRSS for ${each}`);
          total += Number(kb) * 1024;
        }
        return total;
      } catch {
        // Not Linux (or a worker just exited): ask the processes themselves.
      }
      return (await ask<ProbeMemory>({ type: "memory", gc: false })).rss;
    },
    processes: () => ask<ProcessTree>({ type: "processes" }),
    startProfile: async () => {
      await ask({ type: "profile-start" });
    },
    stopProfile: async (path) => {
      await ask({ type: "profile-stop", path });
    },
    heapSnapshot: async (path) => {
      await ask({ type: "heap-snapshot", path });
    },
    stop: () => stopChild(child),
  };
}

type Ask = <T>(request: ProbeQuestion) => Promise<T>;

/** Questions to the probe preloaded in `child`, over its IPC channel. */
function probeClient(child: ChildProcess): Ask {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  child.on("message", (message: { id: number; value?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.value);
  });
  return <T>(request: ProbeQuestion): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
}

async function cpuOf(ask: Ask): Promise<number> {
  const usage = await ask<NodeJS.CpuUsage>({ type: "cpu" });
  return usage.user + usage.system;
}

async function waitUntilHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: exited with code ${child.exitCode} during start-up`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not become healthy within 30 s`);
}

function firstLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (data: Buffer) => {
      text += data.toString("utf8");
      const match = text
        .split("\n")
        .map((line) => pattern.exec(line))
        .find((candidate) => candidate !== null);
      if (match !== undefined && match !== null) {
        child.stdout?.off("data", onData);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`process exited with code ${code} before it was ready`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Raises this process's open-file limit (children inherit it) towards `wanted`: up to the hard
 * limit, or beyond it when allowed (root). Returns the limit in force afterwards.
 */
export function raiseFileLimit(wanted: number): number {
  const read = () => {
    const [soft, hard] = execFileSync("sh", ["-c", "ulimit -Sn; ulimit -Hn"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((value) => (value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value)));
    return { soft: soft ?? 1024, hard: hard ?? 1024 };
  };
  try {
    const { soft, hard } = read();
    if (soft >= wanted) return soft;
    for (const limit of [wanted, Math.min(wanted, hard)]) {
      try {
        execFileSync("prlimit", [`--pid=${process.pid}`, `--nofile=${limit}:${Math.max(limit, hard)}`], {
          stdio: "ignore",
        });
        break;
      } catch {
        // not allowed or no prlimit: try the next, smaller limit
      }
    }
    return read().soft;
  } catch {
    return 1024;
  }
}

/** How many local ports one source address can use for connections to one destination. */
export function ephemeralPortCount(): number {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined) return high - low + 1;
  } catch {
    // not Linux
  }
  return 16_000;
}
