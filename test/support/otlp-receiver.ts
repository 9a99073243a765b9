/**
 * A collector for tests: accepts OTLP/HTTP exports with JSON bodies (`/v1/traces`,
 * `/v1/metrics`) on loopback and keeps their spans and metric points, flattened.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// biome-ignore lint/suspicious/noExplicitAny: OTLP JSON as received
type Json = any;

export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's: 1 internal, 2 server, 3 client. */
  kind: number;
  /** OTLP's: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
}

export interface ReceivedPoint {
  metric: string;
  unit: string;
  attributes: Record<string, AttributeValue>;
  count: number;
  sum: number;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Every histogram point of every export (cumulative: later exports repeat earlier points, grown). */
  points: ReceivedPoint[];
  /** Content types of the exports, as sent. */
  contentTypes: Set<string>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      contentTypes.add(String(req.headers["content-type"]));
      const body: Json = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      if (req.url === "/v1/traces") spans.push(...spansOf(body));
      else if (req.url === "/v1/metrics") points.push(...pointsOf(body));
      else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    points,
    contentTypes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function spansOf(body: Json): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans: Json) => {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope: Json) =>
      (scope.spans ?? []).map(
        (span: Json): ReceivedSpan => ({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? "",
          name: span.name,
          kind: span.kind,
          status: span.status ?? { code: 0 },
          attributes: attributesOf(span.attributes),
          resource,
        }),
      ),
    );
  });
}

function pointsOf(body: Json): ReceivedPoint[] {
  return (body.resourceMetrics ?? []).flatMap((resourceMetrics: Json) =>
    (resourceMetrics.scopeMetrics ?? []).flatMap((scope: Json) =>
      (scope.metrics ?? []).flatMap((metric: Json) =>
        (metric.histogram?.dataPoints ?? []).map(
          (point: Json): ReceivedPoint => ({
            metric: metric.name,
            unit: metric.unit,
            attributes: attributesOf(point.attributes),
            count: Number(point.count),
            sum: Number(point.sum),
          }),
        ),
      ),
    ),
  );
}

function attributesOf(list: Json[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) attributes[key] = attributeValue(value);
  return attributes;
}

function attributeValue(value: Json): AttributeValue {
  if (value == null) return undefined;
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return value.doubleValue;
  if ("boolValue" in value) return value.boolValue;
  if ("arrayValue" in value) return (value.arrayValue.values ?? []).map(attributeValue);
  return undefined;
}
