import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { type BrookServices, createServices, version } from "./brook-services.js";
import type { Config } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { BrookError } from "./errors/brook-error.js";
import { createHttpApp } from "./surfaces/http-app.js";
import { createLogger } from "./surfaces/logger.js";
import { startTelemetry } from "./telemetry/telemetry.js";

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

export interface BrookOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: NodeJS.WritableStream;
}

/** Builds a Brook server from a parsed configuration: its services, then its HTTP surfaces. */
export async function createBrook(config: Config, options: BrookOptions = {}): Promise<Brook> {
  const log = createLogger(config, { stream: options.logStream });
  const telemetry = await startTelemetry(config, { version, warn: (message) => log.warn(message) });
  const services = createServices(config, log, telemetry);
  const app = await createHttpApp(services).catch(async (error: unknown) => {
    await services.close();
    await telemetry?.close();
    throw error;
  });
  let closing: Promise<void> | undefined;

  async function shutdown(drainMs: number): Promise<void> {
    const { control } = services;
    control.drain();
    if (control.activeCount > 0) {
      app.log.info({ active_runs: control.activeCount, drain_ms: drainMs }, "draining: waiting for running answers");
      const deadline = new AbortController();
      await Promise.race([control.idle(), sleep(drainMs, undefined, { signal: deadline.signal }).catch(() => {})]);
      deadline.abort();
    }
    // Whatever is still going ends now with `shutdown`, and its readers get that terminal event.
    await control.abortAll(new BrookError("shutdown"));
    await services.close();
    // Streams end once their readers wrote the terminal event; keep-alive sockets close as soon as
    // they are idle, and sockets that still hold a response (a reader that stopped reading) after 2 s.
    const closed = app.close();
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    const stragglers = setTimeout(() => app.server.closeAllConnections(), 2_000);
    await closed;
    clearInterval(sweep);
    clearTimeout(stragglers);
    // Last: the spans of the requests that just ended are exported too.
    await telemetry?.close();
  }

  return {
    app,
    services,
    async listen(port = config.PORT) {
      try {
        // Node's default accept backlog (511) resets connections in a burst of thousands of streams;
        // the kernel caps this at net.core.somaxconn.
        await app.listen({ host: config.HOST, port, backlog: 4096 });
      } catch (error) {
        throw listenError(error, config.HOST, port);
      }
      const address = app.server.address();
      return localUrl(config.HOST, typeof address === "object" && address !== null ? address.port : port);
    },
    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.drainMs ?? config.DRAIN_TIMEOUT_MS);
      return closing;
    },
  };
}

/** The base URL of Brook listening on `host:port`, as a client on this machine reaches it. */
export function localUrl(host: string, port: number): string {
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return `http://${bracketed === "0.0.0.0" ? "127.0.0.1" : bracketed}:${port}`;
}

/** A port Brook cannot listen on is a setting to change: one line naming it, not a stack trace. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EADDRINUSE")
    return new ConfigError("PORT", `${host}:${port} is already in use; stop what listens there or choose another PORT`);
  if (code === "EACCES")
    return new ConfigError("PORT", `${host}:${port} needs privileges Brook does not have; choose a PORT above 1023`);
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return new ConfigError("HOST", `${host} is not an address of this machine`);
  }
  return error;
}
