import cluster from "node:cluster";
import { hostname } from "node:os";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "../config/config.js";

export interface LoggerOptions {
  /** Where log lines go instead of stdout (tests read them). */
  stream?: NodeJS.WritableStream | undefined;
}

/** Brook's logger: one per server, shared by the HTTP surfaces and the services. */
export function createLogger(config: Config, options: LoggerOptions = {}): Logger {
  const prettyLogs = (config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  const stream =
    options.stream ??
    (prettyLogs ? pretty({ translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" }) : pino.destination(1));
  return pino(
    {
      level: config.LOG_LEVEL,
      // A worker's lines say which of the WORKERS processes wrote them.
      ...(cluster.worker === undefined
        ? {}
        : { base: { pid: process.pid, hostname: hostname(), worker: cluster.worker.id } }),
      // Keys never reach a log line, whatever logs a request or its headers.
      redact: {
        paths: ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "authorization"],
        censor: "[redacted]",
      },
      serializers: {
        err: pino.stdSerializers.err,
        // Query strings carry messages (GET /chat/stream) and tRPC inputs and connection parameters.
        req: (request: { method: string; url: string; headers: Record<string, unknown>; ip?: string }) => ({
          method: request.method,
          url: config.LOG_CONTENT ? withoutSecrets(request.url) : request.url.split("?", 1)[0],
          remote_address: request.ip,
          headers: request.headers,
        }),
      },
    },
    stream,
  );
}

/**
 * A URL without tRPC's `connectionParams` (browsers' subscriptions carry their key there) and
 * an OAuth callback's `code` and `state` (an MCP server's authorization).
 */
function withoutSecrets(url: string): string {
  const [path, query] = url.split("?", 2);
  if (query === undefined) return url;
  const params = new URLSearchParams(query);
  for (const secret of ["connectionParams", "code", "state"]) {
    if (params.has(secret)) params.set(secret, "[redacted]");
  }
  return `${path}?${params.toString()}`;
}
