import type { FastifyPluginCallback } from "fastify";
import type { AgentTools } from "../agent/agent-loop.js";
import type { Config } from "../config/config.js";
import type { RunExecutor } from "../control/run-control.js";
import type { ChatModel } from "../models/chat-model.js";
import type { McpFetch } from "../tools/mcp-connection.js";

/**
 * OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set: wrappers that put spans and metrics
 * around runs, model calls and tool calls (the agent loop knows nothing of them), and the HTTP
 * server's spans. Without the variable there is no Telemetry and nothing is wrapped.
 */
export interface Telemetry {
  /** One `invoke_agent brook` span per run, a child of the request that started it. */
  runs(execute: RunExecutor): RunExecutor;
  /** One `chat {model}` span per model call, its trace context sent to the model server; GenAI metrics. */
  model(model: ChatModel): ChatModel;
  /** One `execute_tool {name}` span per tool call. */
  tools(tools: AgentTools): AgentTools;
  /** The `fetch` of MCP servers over HTTP: it sends the current trace context. */
  readonly mcpFetch: McpFetch;
  /** A request span per HTTP request, continuing the caller's `traceparent` (registered before any route). */
  readonly httpPlugin: FastifyPluginCallback;
  /** Exports what is left and stops. */
  close(): Promise<void>;
}

export interface TelemetryOptions {
  version: string;
  /** Where diagnostics of the SDK (a collector that cannot be reached) are told. */
  warn(message: string): void;
}

/**
 * Starts telemetry when the configuration asks for it. The SDK is imported here, only then: an
 * unconfigured Brook never loads it.
 */
export async function startTelemetry(config: Config, options: TelemetryOptions): Promise<Telemetry | undefined> {
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) return undefined;
  const { createOtelTelemetry } = await import("./otel-telemetry.js");
  return createOtelTelemetry(config, config.OTEL_EXPORTER_OTLP_ENDPOINT, options);
}
