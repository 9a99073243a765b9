import type { FastifyInstance } from "fastify";
import type { BrookServices } from "./brook-services.js";
import type { Config } from "./config/config.js";
import { BrookError } from "./errors/brook-error.js";
import { createApp } from "./http/app.js";

export interface Brook {
  readonly app: FastifyInstance;
  readonly services: BrookServices;
  /** Listens on `HOST:PORT` (or on `port`, 0 for any free one) and returns the base URL. */
  listen(port?: number): Promise<string>;
  /** Stops listening, cancels the runs still going, and waits for their terminal events. */
  close(): Promise<void>;
}

/** Builds a Brook server from a parsed configuration. */
export async function createBrook(config: Config): Promise<Brook> {
  const { app, services } = await createApp(config);
  return {
    app,
    services,
    async listen(port = config.PORT) {
      await app.listen({ host: config.HOST, port });
      const address = app.server.address();
      const actualPort = typeof address === "object" && address !== null ? address.port : port;
      const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
      return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${actualPort}`;
    },
    async close() {
      const closing = app.close();
      await services.engine.abortAll(new BrookError("shutdown"));
      await closing;
      await services.close();
    },
  };
}
