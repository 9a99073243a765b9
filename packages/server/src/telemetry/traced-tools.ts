import { context, propagation, SpanStatusCode, type TextMapSetter, type Tracer, trace } from "@opentelemetry/api";
import type { AgentTools } from "../agent/agent-loop.js";
import { abortReason } from "../errors/brook-error.js";
import type { McpFetch } from "../tools/mcp-connection.js";
import type { ToolOutcome } from "../tools/tool-registry.js";
import { attributes as names, operations } from "./gen-ai-conventions.js";

/**
 * Tools whose every call is an `execute_tool {name}` span, active while the call runs: the MCP
 * request it makes over HTTP carries its trace context (see `tracedFetch`).
 */
export function tracedTools(inner: AgentTools, tracer: Tracer): AgentTools {
  return {
    offered: (selection) => inner.offered(selection),
    approvalServer: (name) => inner.approvalServer(name),
    async call(call, signal, onProgress, ask): Promise<ToolOutcome> {
      const span = tracer.startSpan(
        `${operations.executeTool} ${call.name}`,
        {
          attributes: {
            [names.operationName]: operations.executeTool,
            [names.toolName]: call.name,
            [names.toolCallId]: call.id,
            [names.toolType]: "function",
          },
        },
        context.active(),
      );
      try {
        const outcome = await context.with(trace.setSpan(context.active(), span), () =>
          inner.call(call, signal, onProgress, ask),
        );
        // The model gets the tool's failures as results; the span says the call failed.
        if (outcome.isError) {
          span.setAttribute(names.errorType, "tool_error");
          span.setStatus({ code: SpanStatusCode.ERROR, message: "tool_error" });
        }
        return outcome;
      } catch (thrown) {
        const code = abortReason(signal).code;
        span.setAttribute(names.errorType, code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        throw thrown;
      } finally {
        span.end();
      }
    },
  };
}

const headerSetter: TextMapSetter<Headers> = { set: (carrier, key, value) => carrier.set(key, value) };

/** Global fetch that adds the active trace context (`traceparent`) to each request's headers. */
export const tracedFetch: McpFetch = (url, init) => {
  const headers = new Headers(init?.headers);
  propagation.inject(context.active(), headers, headerSetter);
  return fetch(url, { ...init, headers });
};
