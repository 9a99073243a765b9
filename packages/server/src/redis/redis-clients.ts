import type { RedisState } from "@brook/shared";
import { Redis } from "ioredis";

export interface RedisLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Brook's connections to Redis (`REDIS_URL`): one for commands (auto-pipelined: what one tick
 * asks goes out in one write) and one for pub/sub, which holds its connection. Brook starts
 * whether or not Redis is up and reconnects by itself; while it is away, commands fail at once
 * instead of queueing, so nothing is buffered without bound.
 */
export class RedisClients {
  readonly commands: Redis;
  readonly subscriber: Redis;
  #state: RedisState["status"] = "connecting";
  #lastError: string | null = null;
  #readyListeners: (() => void)[] = [];
  /** The subscriber's channels, subscribed again after a reconnect. */
  readonly #channels = new Set<string>();

  constructor(
    readonly url: string,
    private readonly log: RedisLog,
  ) {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnects at once, then backs off to a retry every 2 s.
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2_000),
      connectionName: "brook",
    };
    this.commands = new Redis(url, { ...options, enableAutoPipelining: true });
    // The subscriber queues its own subscriptions until it is connected. ioredis's own
    // resubscription after a reconnect drops its promise (an unhandled rejection when the
    // connection closes before Redis answers it): Brook subscribes again itself.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, autoResubscribe: false });
    this.subscriber.on("ready", () => {
      if (this.#channels.size > 0) this.subscriber.subscribe(...this.#channels).catch(() => {});
    });
    this.commands.on("ready", () => this.#ready());
    this.commands.on("error", (error: Error) => this.#failed(error.message || String(error)));
    this.commands.on("close", () => this.#failed(this.#lastError ?? "connection closed"));
    this.subscriber.on("error", () => {});
  }

  /** Connects in the background; Brook does not wait for Redis to start. */
  connect(): void {
    for (const client of [this.commands, this.subscriber]) client.connect().catch(() => {});
  }

  get state(): RedisState {
    return { status: this.#state, last_error: this.#lastError };
  }

  get connected(): boolean {
    return this.#state === "connected";
  }

  /** Subscribes the pub/sub connection to `channel`, now and after every reconnect. */
  subscribe(channel: string): Promise<unknown> {
    this.#channels.add(channel);
    return this.subscriber.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<unknown> {
    this.#channels.delete(channel);
    return this.subscriber.unsubscribe(channel);
  }

  /** Told each time the command connection is (again) ready. */
  onReady(listener: () => void): void {
    this.#readyListeners.push(listener);
  }

  async close(): Promise<void> {
    this.#state = "closed";
    await Promise.all(
      [this.commands, this.subscriber].map(async (client) => {
        // QUIT waits for the server: only when it is there to answer.
        if (client.status === "ready") await client.quit().catch(() => {});
        client.disconnect();
      }),
    );
  }

  #ready(): void {
    const wasDown = this.#state === "unavailable";
    this.#state = "connected";
    this.#lastError = null;
    this.log.info(wasDown ? `Redis is back at ${this.#where()}` : `Redis connected at ${this.#where()}`);
    for (const listener of this.#readyListeners) listener();
  }

  #failed(message: string): void {
    if (this.#state === "closed") return;
    // One line per outage, not one per reconnection attempt.
    if (this.#state !== "unavailable") {
      this.log.warn(
        `Redis is unavailable at ${this.#where()} (${message}): runs stay on this instance until it is back; retrying`,
      );
    }
    this.#state = "unavailable";
    this.#lastError = message;
  }

  #where(): string {
    try {
      const url = new URL(this.url);
      return `${url.hostname}:${url.port || "6379"}`;
    } catch {
      return "REDIS_URL";
    }
  }
}

/** A run's keys share one hash slot (`{<run_id>}`), so Redis Cluster keeps them together. */
export const runKeys = (runId: string) => {
  const tag = `brook:{${runId}}`;
  return {
    /** The run's events: a stream with ids `0-<seq + 1>`. */
    events: `${tag}:events`,
    /** Who produces the run, and what it has used so far (a hash). */
    meta: `${tag}:meta`,
    /** The producer's lease: gone when the producer is. */
    lease: `${tag}:lease`,
    /** Set once the terminal event is written: nothing is appended after it. */
    end: `${tag}:end`,
    /** Published to after each appended batch, for readers on other instances. */
    notify: `${tag}:notify`,
    /** Instances whose readers follow the run (a set): without any, appends publish nothing. */
    listeners: `${tag}:listeners`,
  };
};

/** The channel an instance listens on for requests about the runs it produces. */
export const instanceChannel = (instanceId: string) => `brook:instance:${instanceId}`;
