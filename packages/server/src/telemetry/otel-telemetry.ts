import { FastifyOtelInstrumentation } from "@fastify/otel";
import { context, type DiagLogger, DiagLogLevel, diag, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { type Config, isDemoMode } from "../config/config.js";
import { durationBuckets, metricNames, tokenBuckets } from "./gen-ai-conventions.js";
import type { Telemetry, TelemetryOptions } from "./telemetry.js";
import { type ModelServer, TracedChatModel } from "./traced-model.js";
import { tracedRuns } from "./traced-runs.js";
import { tracedFetch, tracedTools } from "./traced-tools.js";

/** Routes polled by load balancers and scrapers: a span each would drown the traces that matter. */
const quietRoutes = new Set(["/health", "/metrics"]);

/**
 * The OpenTelemetry SDK, set up by hand from its parts: a tracer provider with a batch processor
 * and the OTLP/HTTP (JSON) exporter, a meter provider exporting periodically, W3C trace context
 * and baggage propagation, and async-local context. They are registered as the process's globals
 * (`@fastify/otel` and the propagation of `traceparent` read those).
 */
export function createOtelTelemetry(config: Config, endpoint: string, options: TelemetryOptions): Telemetry {
  const base = endpoint.replace(/\/+$/, "");
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
  );
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
        scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
      }),
    ],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
        exportIntervalMillis: config.OTEL_METRIC_EXPORT_INTERVAL,
        exportTimeoutMillis: Math.min(30_000, config.OTEL_METRIC_EXPORT_INTERVAL),
      }),
    ],
  });
  diag.setLogger(diagLog(options.warn), DiagLogLevel.WARN);
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  const tracer = tracerProvider.getTracer("brook", options.version);
  const meter = meterProvider.getMeter("brook", options.version);
  const instruments = {
    duration: meter.createHistogram(metricNames.operationDuration, {
      description: "Duration of GenAI model calls.",
      unit: "s",
      advice: { explicitBucketBoundaries: durationBuckets },
    }),
    tokenUsage: meter.createHistogram(metricNames.tokenUsage, {
      description: "Tokens used by GenAI model calls, by type (input, output).",
      unit: "{token}",
      advice: { explicitBucketBoundaries: tokenBuckets },
    }),
    timeToFirstChunk: meter.createHistogram(metricNames.timeToFirstChunk, {
      description: "Time from a GenAI model call to the first chunk of its answer.",
      unit: "s",
      advice: { explicitBucketBoundaries: durationBuckets },
    }),
  };
  const server = modelServer(config);
  const http = new FastifyOtelInstrumentation({
    // Request and handler spans; one span per lifecycle hook would say little and cost a lot.
    instrumentHooks: false,
    ignorePaths: (route) => quietRoutes.has(route.url.split("?")[0] ?? ""),
  });
  http.setTracerProvider(tracerProvider);

  return {
    runs: (execute) => tracedRuns(execute, tracer, server.provider),
    model: (model) => new TracedChatModel(model, tracer, instruments, server),
    tools: (tools) => tracedTools(tools, tracer),
    mcpFetch: tracedFetch,
    httpPlugin: http.plugin(),
    async close() {
      http.disable();
      // Everything ended is exported before Brook exits.
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/** The provider and address of the model server, as the chat spans name them. */
function modelServer(config: Config): ModelServer {
  if (isDemoMode(config)) return { provider: "brook" };
  const url = new URL(config.OPENAI_BASE_URL ?? "https://api.openai.com/v1");
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return { provider: "openai", address: url.hostname, port };
}

/** The SDK's own diagnostics (an unreachable collector, a rejected export) as warnings in Brook's log. */
function diagLog(warn: (message: string) => void): DiagLogger {
  const say = (message: string, ...args: unknown[]) =>
    warn(
      `OpenTelemetry: ${[message, ...args.map((arg) => (arg instanceof Error ? arg.message : String(arg)))].join(" ")}`,
    );
  const quiet = () => {};
  return { error: say, warn: say, info: quiet, debug: quiet, verbose: quiet };
}
