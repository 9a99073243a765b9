import { type ChatEvent, isTerminal, type TerminalEvent, type Usage } from "@brook/shared";
import type { Result } from "ioredis";
import type { InstanceMessages } from "../control/instance-messages.js";
import { BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import { MemoryRunStore, type RetentionOptions } from "../storage/memory-run-store.js";
import { MirrorWindow } from "../storage/mirror-window.js";
import { MirroredRunLog, type RunMirror, unknownUsage } from "../storage/mirrored-run-log.js";
import { RemoteRunLog, type RunSource } from "../storage/remote-run-log.js";
import type { RunLog, RunLogOptions, RunLogWriter, RunStore } from "../storage/run-log.js";
import { type RedisClients, type RedisLog, runKeys } from "./redis-clients.js";

/**
 * Appends one batch of a run (ids `0-<seq + 1>`), unless the run already ended (0) or its stream
 * is gone while the batch is not its first (-1: Redis lost it). A terminal batch marks the end,
 * sets the retention time on every key and drops the lease. Readers elsewhere are told the new
 * head, when some listen (an instance adds itself to the run's listeners before it reads the
 * stream, so a batch it does not see there is published to it) and always at the end.
 * The batch's events come as one argument, one JSON text a line (JSON text holds no raw newline).
 * KEYS: events, end, notify, meta, lease, listeners. ARGV: first seq, retention ms ('' unless terminal), safety ttl, events.
 */
const appendScript = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local first = tonumber(ARGV[1])
if first > 0 and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local count = 0
for event in string.gmatch(ARGV[4], '[^\\n]+') do
  count = count + 1
  redis.call('XADD', KEYS[1], '0-' .. (first + count), 'e', event)
end
if first == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[4], ARGV[2])
  redis.call('DEL', KEYS[5], KEYS[6])
  redis.call('PUBLISH', KEYS[3], first + count)
elseif redis.call('EXISTS', KEYS[6]) == 1 then
  redis.call('PUBLISH', KEYS[3], first + count)
end
return 1
`;

/**
 * Ends a run whose producer is gone with one terminal event, unless it has ended already or (when
 * ARGV[3] is not 'force') its producer still holds the lease: whoever notices first writes it, once.
 * KEYS: events, end, notify, meta, lease. ARGV: retention ms, the terminal event, 'force' or ''.
 */
const endScript = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[3] ~= 'force' and redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local head = 0
if #last > 0 then head = tonumber(string.sub(last[1][1], 3)) end
redis.call('XADD', KEYS[1], '0-' .. (head + 1), 'e', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
redis.call('PUBLISH', KEYS[3], head + 1)
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    brookAppend(...args: (string | number)[]): Result<number, Context>;
    brookEnd(...args: (string | number)[]): Result<number, Context>;
  }
}

export interface RedisRunStoreOptions {
  clients: RedisClients;
  inbox: InstanceMessages;
  retention: RetentionOptions;
  /** A producer that has not renewed its lease for this long is taken for lost. */
  leaseMs: number;
  /** The longest a run may last (MAX_RUN_MS; 0: unbounded): keys of a run nobody ends expire after it. */
  maxRunMs: number;
  /** REDIS_MIRROR_WINDOW_MS: how long a run's events wait to go to Redis together (0: each batch at once). */
  mirrorWindowMs: number;
  /** REDIS_MIRROR_UNWATCHED_WINDOW_MS: the window while no reader on another instance follows the run. */
  mirrorUnwatchedWindowMs: number;
  log: RedisLog;
}

/** Keys of a run that nobody ended (its producer and every reader gone) still expire. */
const unboundedRunTtlMs = 24 * 60 * 60 * 1000;

/**
 * Runs shared between instances through Redis (`REDIS_URL`). A run's producer keeps it in memory
 * (its own readers never wait on Redis) and mirrors each appended batch to a Redis Stream in one
 * round trip; readers on other instances read the stream and are woken by pub/sub, never by
 * polling. The producer holds a lease on each run; a reader elsewhere that finds it gone ends the
 * run with one `interrupted` event. Runs that belong to one request stay in memory only.
 */
export class RedisRunStore implements RunStore {
  readonly #local: MemoryRunStore;
  readonly #mirrors = new Map<string, MirroredRunLog>();
  readonly #views = new Map<string, RemoteRunLog>();
  /** Runs whose copy in Redis broke: ended there as interrupted once Redis is back. */
  readonly #broken = new Map<string, TerminalEvent>();
  readonly #settling = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;
  readonly #safetyTtlMs: number;
  readonly #window: MirrorWindow | undefined;
  readonly #unwatchedWindow: MirrorWindow | undefined;

  constructor(private readonly options: RedisRunStoreOptions) {
    this.#local = new MemoryRunStore(options.retention);
    this.#window = options.mirrorWindowMs > 0 ? new MirrorWindow(options.mirrorWindowMs) : undefined;
    const unwatchedMs = Math.max(options.mirrorWindowMs, options.mirrorUnwatchedWindowMs);
    this.#unwatchedWindow = unwatchedMs > options.mirrorWindowMs ? new MirrorWindow(unwatchedMs) : this.#window;
    this.#safetyTtlMs = (options.maxRunMs > 0 ? options.maxRunMs : unboundedRunTtlMs) + options.retention.retentionMs;
    const { commands, subscriber } = options.clients;
    commands.defineCommand("brookAppend", { numberOfKeys: 6, lua: appendScript });
    commands.defineCommand("brookEnd", { numberOfKeys: 5, lua: endScript });
    subscriber.on("message", (channel: string) => this.#views.get(runIdOfNotify(channel))?.wake());
    options.inbox.on("presence", ({ runId, from }) => this.#mirrors.get(runId)?.remoteReader(from, true));
    options.inbox.on("absent", ({ runId, from }) => this.#mirrors.get(runId)?.remoteReader(from, false));
    options.clients.onReady(() => this.#endBroken());
    this.#timer = setInterval(() => this.#tick(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.#timer.unref();
  }

  get size(): number {
    return this.#local.size;
  }

  create(runId: string, options: RunLogOptions): RunLogWriter {
    const memory = this.#local.create(runId, options);
    if (!options.resumable) return memory;
    const mirror = new MirroredRunLog(
      memory,
      this.#mirrorContext(runId, options.owner),
      options.bufferBytes,
      this.#window,
      this.#unwatchedWindow,
    );
    this.#mirrors.set(runId, mirror);
    return mirror;
  }

  async find(runId: string): Promise<RunLog | undefined> {
    const local = this.#local.get(runId);
    if (local !== undefined) return this.#mirrors.get(runId) ?? local;
    const viewed = this.#views.get(runId);
    if (viewed !== undefined) return viewed;
    const keys = runKeys(runId);
    const { commands } = this.options.clients;
    let last: [string, string[]][];
    let producer: string | null;
    let owner: string | null;
    try {
      [last, [producer = null, owner = null]] = await Promise.all([
        commands.xrevrange(keys.events, "+", "-", "COUNT", 1),
        commands.hmget(keys.meta, "producer", "owner"),
      ]);
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    if (last.length === 0 && producer === null) return undefined;
    const entry = last[0];
    const head = entry === undefined ? 0 : seqOfId(entry[0]) + 1;
    const lastEvent = entry === undefined ? undefined : parseEntry(entry);
    const terminal = lastEvent !== undefined && isTerminal(lastEvent) ? lastEvent : undefined;
    return new RemoteRunLog(runId, ownerOf(owner), head, terminal, producer, this.#viewContext(runId));
  }

  ended(runId: string, retain: boolean): void {
    const mirror = this.#mirrors.get(runId);
    this.#mirrors.delete(runId);
    this.#local.ended(runId, retain);
    if (mirror === undefined) return;
    // Its last batch (the terminal event) may still be on its way.
    const settling = mirror.settled().then(() => {
      this.#settling.delete(settling);
      if (mirror.broken && mirror.terminal !== undefined) this.#broken.set(runId, mirror.terminal);
    });
    this.#settling.add(settling);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#window?.flush();
    this.#unwatchedWindow?.flush();
    // The last batches (a drained run's terminal event) reach Redis before its connection closes.
    await Promise.all([...this.#mirrors.values()].map((mirror) => mirror.settled()));
    await Promise.all(this.#settling);
    for (const view of this.#views.values()) view.stop();
    await this.#local.close();
  }

  #mirrorContext(runId: string, owner: string | undefined): RunMirror {
    const { clients, inbox, retention, leaseMs, log } = this.options;
    const keys = runKeys(runId);
    const keyList = [keys.events, keys.end, keys.notify, keys.meta, keys.lease, keys.listeners];
    const retentionMs = String(Math.max(1, retention.retentionMs));
    const safetyTtl = String(this.#safetyTtlMs);
    return {
      register: () =>
        Promise.all([
          // The owner travels with the run, so that instances elsewhere keep it from other keys.
          clients.commands.hset(keys.meta, { producer: inbox.instanceId, owner: owner ?? openToAll }),
          clients.commands.pexpire(keys.meta, this.#safetyTtlMs),
          clients.commands.set(keys.lease, inbox.instanceId, "PX", leaseMs),
        ]).then(() => undefined),
      append: (first, events, terminal) =>
        clients.commands.brookAppend(
          ...keyList,
          first,
          terminal ? retentionMs : "",
          safetyTtl,
          events.map((event) => JSON.stringify(event)).join("\n"),
        ),
      noteUsage: (usage) => {
        clients.commands.hset(keys.meta, "usage", JSON.stringify(usage)).catch(() => {});
      },
      broke: (reason) => log.warn(`Run ${runId} goes on here only: its copy in Redis broke (${reason})`),
    };
  }

  #viewContext(runId: string): RunSource {
    const { clients, inbox } = this.options;
    const keys = runKeys(runId);
    return {
      fetch: async (fromSeq, max) => {
        const start = `(0-${fromSeq}`;
        const entries = Number.isFinite(max)
          ? await clients.commands.xrange(keys.events, start, "+", "COUNT", max)
          : await clients.commands.xrange(keys.events, start, "+");
        return entries.map(parseEntry);
      },
      follow: (view) => {
        this.#views.set(runId, view);
        // Subscribed and listed before the first read: what that read misses is published to it.
        return Promise.all([
          clients.subscribe(keys.notify),
          clients.commands.sadd(keys.listeners, inbox.instanceId),
          clients.commands.pexpire(keys.listeners, this.#safetyTtlMs),
        ]).then(
          () => undefined,
          // Redis away: the read that follows fails and says so.
          () => undefined,
        );
      },
      unfollow: (view) => {
        if (this.#views.get(runId) !== view) return;
        this.#views.delete(runId);
        clients.unsubscribe(keys.notify).catch(() => {});
        clients.commands.srem(keys.listeners, inbox.instanceId).catch(() => {});
      },
      tellProducer: (producer, present) => {
        inbox.send(producer, present ? "presence" : "absent", runId).catch(() => {});
      },
      endIfLost: async () => {
        if ((await clients.commands.exists(keys.lease)) === 1) return;
        const usage = await clients.commands.hget(keys.meta, "usage");
        await this.#endInRedis(runId, parseUsage(usage), "if-lost");
      },
    };
  }

  /** Renews this instance's leases, and keeps its readers of other instances' runs known there. */
  #tick(): void {
    const { clients, inbox, leaseMs } = this.options;
    if (!clients.connected) {
      // Readers of other instances' runs cannot follow them: they find out at once, and say so.
      for (const view of this.#views.values()) view.wake();
      return;
    }
    for (const [runId, mirror] of this.#mirrors) {
      if (!mirror.broken) clients.commands.set(runKeys(runId).lease, inbox.instanceId, "PX", leaseMs).catch(() => {});
    }
    for (const view of this.#views.values()) view.heartbeat();
  }

  /** Once Redis is back, runs whose copy there broke end there, as interrupted for readers elsewhere. */
  #endBroken(): void {
    const pending: [string, Usage][] = [...this.#broken].map(([runId, terminal]) => [runId, terminal.usage]);
    for (const mirror of this.#mirrors.values()) if (mirror.broken) pending.push([mirror.runId, mirror.usage]);
    for (const [runId, usage] of pending) {
      this.#endInRedis(runId, usage, "force").then(
        () => this.#broken.delete(runId),
        () => {},
      );
    }
  }

  /**
   * Ends a run's copy in Redis with one `interrupted` event, unless it has ended already, and
   * (`if-lost`) unless its producer still holds the lease.
   */
  #endInRedis(runId: string, usage: Usage, when: "if-lost" | "force"): Promise<number> {
    const keys = runKeys(runId);
    return this.options.clients.commands.brookEnd(
      keys.events,
      keys.end,
      keys.notify,
      keys.meta,
      keys.lease,
      Math.max(1, this.options.retention.retentionMs),
      JSON.stringify(errorEvent(new BrookError("interrupted"), usage)),
      when === "force" ? "force" : "",
    );
  }
}

/** The `owner` recorded for a run started while keys were off. */
const openToAll = "";

/**
 * The owner of a run as recorded in Redis. A run with none recorded (its producer failed to
 * register it) is kept from every key: it matches no key's identity (base64url has no `?`).
 */
function ownerOf(recorded: string | null): string | undefined {
  if (recorded === null) return "?unrecorded";
  return recorded === openToAll ? undefined : recorded;
}

function parseUsage(text: string | null): Usage {
  if (text === null) return unknownUsage;
  try {
    return { ...(JSON.parse(text) as Usage), estimated: true };
  } catch {
    return unknownUsage;
  }
}

/** Entries hold events Brook wrote itself, as JSON. */
function parseEntry([, fields]: [string, string[]]): ChatEvent {
  return JSON.parse(fields[1] as string) as ChatEvent;
}

function seqOfId(id: string): number {
  return Number(id.slice(id.indexOf("-") + 1)) - 1;
}

function runIdOfNotify(channel: string): string {
  const open = channel.indexOf("{");
  const close = channel.indexOf("}", open);
  return open === -1 || close === -1 ? "" : channel.slice(open + 1, close);
}
