import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import type { BrookServices } from "./brook-services.js";
import type { Config } from "./config/config.js";
import { BrookError } from "./errors/brook-error.js";
import { type AppOptions, createApp } from "./http/app.js";

export interface Brook {
  readonly app: FastifyInstance;
  readonly services: BrookServices;
  /** Listens on `HOST:PORT` (or on `port`, 0 for any free one) and returns the base URL. */
  listen(port?: number): Promise<string>;
  /**
   * Shuts down gracefully: new runs are refused (503 `shutdown`) and `/health` answers 503
   * `draining`; running runs get `drainMs` (default DRAIN_TIMEOUT_MS) to finish, the rest end
   * with code `shutdown` (with usage); then the close callbacks run (MCP connections…) and the
   * server stops. Calling it again returns the same shutdown.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export type BrookOptions = AppOptions;

/** Builds a Brook server from a parsed configuration. */
export async function createBrook(config: Config, options: BrookOptions = {}): Promise<Brook> {
  const { app, services } = await createApp(config, options);
  let closing: Promise<void> | undefined;

  async function shutdown(drainMs: number): Promise<void> {
    const { engine } = services;
    engine.drain();
    if (engine.activeCount > 0) {
      app.log.info({ active_runs: engine.activeCount, drain_ms: drainMs }, "draining: waiting for running answers");
      const deadline = new AbortController();
      await Promise.race([engine.idle(), sleep(drainMs, undefined, { signal: deadline.signal }).catch(() => {})]);
      deadline.abort();
    }
    // Whatever is still going ends now with `shutdown`, and its readers get that terminal event.
    await engine.abortAll(new BrookError("shutdown"));
    await services.close();
    // Streams end once their readers wrote the terminal event; keep-alive sockets close as soon as
    // they are idle, and sockets that still hold a response (a reader that stopped reading) after 2 s.
    const closed = app.close();
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    const stragglers = setTimeout(() => app.server.closeAllConnections(), 2_000);
    await closed;
    clearInterval(sweep);
    clearTimeout(stragglers);
  }

  return {
    app,
    services,
    async listen(port = config.PORT) {
      // Node's default accept backlog (511) resets connections in a burst of thousands of streams;
      // the kernel caps this at net.core.somaxconn.
      await app.listen({ host: config.HOST, port, backlog: 4096 });
      const address = app.server.address();
      const actualPort = typeof address === "object" && address !== null ? address.port : port;
      const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
      return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${actualPort}`;
    },
    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.drainMs ?? config.DRAIN_TIMEOUT_MS);
      return closing;
    },
  };
}
