import { context, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { RunExecutor } from "../control/run-control.js";
import { agentName, attributes as names, operations } from "./gen-ai-conventions.js";

/**
 * Runs each inside an `invoke_agent brook` span carrying the run id: a child of the active
 * context (the HTTP request that started it), and the parent of its model and tool calls.
 */
export function tracedRuns(execute: RunExecutor, tracer: Tracer, provider: string): RunExecutor {
  return async (run, request) => {
    const span = tracer.startSpan(
      `${operations.invokeAgent} ${agentName}`,
      {
        attributes: {
          [names.operationName]: operations.invokeAgent,
          [names.agentName]: agentName,
          [names.providerName]: provider,
          [names.requestModel]: run.model,
          [names.runId]: run.id,
        },
      },
      context.active(),
    );
    try {
      const outcome = await context.with(trace.setSpan(context.active(), span), () => execute(run, request));
      const { terminal } = outcome;
      span.setAttributes({
        [names.usageInputTokens]: terminal.usage.input_tokens,
        [names.usageOutputTokens]: terminal.usage.output_tokens,
      });
      if (terminal.type === "complete") span.setAttribute(names.responseFinishReasons, [terminal.finish_reason]);
      else {
        span.setAttribute(names.errorType, terminal.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: terminal.error });
      }
      return outcome;
    } catch (thrown) {
      span.setAttribute(names.errorType, "internal");
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw thrown;
    } finally {
      span.end();
    }
  };
}
