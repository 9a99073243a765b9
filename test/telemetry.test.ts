import { randomBytes } from "node:crypto";
import type { ChatEvent } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, streamEvents, until } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./support/otlp-receiver.js";
import { fake } from "./support/sse-text.js";

let receiver: OtlpReceiver;
let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  mcp = await startMcpTestServer();
  brook = await startHarness({
    MCP_URL: mcp.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: "brook-under-test",
    // Export within milliseconds, not seconds.
    OTEL_BSP_SCHEDULE_DELAY: "10",
    OTEL_METRIC_EXPORT_INTERVAL: "50",
  });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
  await receiver?.close();
});

/** A caller's trace context: a fresh trace, and the span the request belongs to. */
function callerContext() {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  return { traceId, parentSpanId, traceparent: `00-${traceId}-${parentSpanId}-01` };
}

/** The spans of one trace, once `ready` says they have all been exported. */
async function spansOf(traceId: string, ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
  await until(() => ready(inTrace()));
  return inTrace();
}

function only(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const named = spans.filter((span) => span.name === name);
  expect(named, name).toHaveLength(1);
  return named[0] as ReceivedSpan;
}

/** Whether `span` descends from the span `ancestorId` (through spans of its trace, or that span itself). */
function descendsFrom(span: ReceivedSpan, ancestorId: string, spans: readonly ReceivedSpan[]): boolean {
  let current: ReceivedSpan | undefined = span;
  while (current !== undefined) {
    if (current.parentSpanId === ancestorId) return true;
    const parentId: string = current.parentSpanId;
    current = spans.find((candidate) => candidate.spanId === parentId);
  }
  return false;
}

/** The span id a `traceparent` header names, checked to belong to `traceId`. */
function spanIdIn(traceparent: unknown, traceId: string): string {
  expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  return String(traceparent).split("-")[2] as string;
}

const spanKind = { internal: 1, server: 2, client: 3 };
const statusCode = { unset: 0, error: 2 };

describe("OpenTelemetry", () => {
  it("traces a run with two tool calls: run span, chat and execute_tool spans, under the caller's traceparent", async () => {
    const { traceId, parentSpanId, traceparent } = callerContext();
    const calls = [
      { id: "call_add", name: "add", arguments: '{"a":2,"b":3}' },
      { id: "call_echo", name: "echo", arguments: '{"text":"traced"}' },
    ];
    const events: ChatEvent[] = await streamEvents(
      brook.url,
      {
        message: `otel-tools ${fake({ toolCallDeltas: toolCallDeltas(calls), usage: { prompt_tokens: 40, completion_tokens: 7 } })}`,
        temperature: 0.25,
        max_tokens: 300,
      },
      { headers: { "content-type": "application/json", traceparent } },
    );
    expectOneTerminal(events);
    expect(events.at(-1)?.type).toBe("complete");
    const runId = events[0]?.type === "start" ? events[0].run_id : "";

    const spans = await spansOf(traceId, (found) => found.some((span) => span.name === "request"));
    // The HTTP request's span continues the caller's trace, under the caller's span.
    const request = only(spans, "request");
    expect(request.parentSpanId).toBe(parentSpanId);
    expect(request.kind).toBe(spanKind.server);
    expect(request.attributes["http.route"]).toBe("/chat/stream");
    expect(request.resource["service.name"]).toBe("brook-under-test");

    const run = only(spans, "invoke_agent brook");
    expect(descendsFrom(run, request.spanId, spans)).toBe(true);
    expect(run.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "brook",
      "gen_ai.request.model": "gpt-4o-mini",
      "brook.run.id": runId,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    expect(run.status.code).toBe(statusCode.unset);

    // Two model calls (the one asking for the tools, the one answering), children of the run.
    const chats = spans.filter((span) => span.name === "chat gpt-4o-mini");
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(chat.parentSpanId).toBe(run.spanId);
      expect(chat.kind).toBe(spanKind.client);
      expect(chat.status.code).toBe(statusCode.unset);
      expect(chat.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.max_tokens": 300,
        "gen_ai.response.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
      });
      expect(chat.attributes["gen_ai.response.time_to_first_chunk"]).toBeGreaterThan(0);
      expect(chat.attributes["error.type"]).toBeUndefined();
    }
    const [asking, answering] = [...chats].sort(
      (a, b) =>
        (a.attributes["gen_ai.usage.input_tokens"] === 40 ? -1 : 0) -
        (b.attributes["gen_ai.usage.input_tokens"] === 40 ? -1 : 0),
    );
    expect(asking?.attributes).toMatchObject({
      "gen_ai.response.finish_reasons": ["tool_calls"],
      "gen_ai.usage.input_tokens": 40,
      "gen_ai.usage.output_tokens": 7,
    });
    expect(answering?.attributes["gen_ai.response.finish_reasons"]).toEqual(["stop"]);

    // One execute_tool span per call, children of the run.
    for (const call of calls) {
      const tool = only(spans, `execute_tool ${call.name}`);
      expect(tool.parentSpanId).toBe(run.spanId);
      expect(tool.attributes).toMatchObject({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.name,
        "gen_ai.tool.call.id": call.id,
      });
      expect(tool.status.code).toBe(statusCode.unset);
      // The MCP server got the tool span's context with the call.
      const received = mcp.log.calls.find(
        (logged) => logged.name === call.name && logged.traceparent?.includes(traceId),
      );
      expect(spanIdIn(received?.traceparent, traceId)).toBe(tool.spanId);
    }

    // The model server got each chat span's context with its request.
    const upstreamRequests = brook.upstream.requests.filter((recorded) =>
      String(recorded.headers.traceparent).includes(traceId),
    );
    expect(upstreamRequests).toHaveLength(2);
    expect(upstreamRequests.map((recorded) => spanIdIn(recorded.headers.traceparent, traceId)).sort()).toEqual(
      chats.map((chat) => chat.spanId).sort(),
    );

    // GenAI metrics: tokens by type, durations and time to first chunk, per model.
    await until(() =>
      [
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
      ].every((name) => receiver.points.some((point) => point.metric === name && point.count > 0)),
    );
    const input = receiver.points.find(
      (point) => point.metric === "gen_ai.client.token.usage" && point.attributes["gen_ai.token.type"] === "input",
    );
    expect(input).toMatchObject({
      unit: "{token}",
      attributes: expect.objectContaining({ "gen_ai.request.model": "gpt-4o-mini", "gen_ai.operation.name": "chat" }),
    });
    expect(input?.sum).toBeGreaterThanOrEqual(40);
    const duration = receiver.points.find((point) => point.metric === "gen_ai.client.operation.duration");
    expect(duration?.unit).toBe("s");
    expect(receiver.contentTypes).toEqual(new Set(["application/json"]));
  });

  it.each([
    {
      surface: "tRPC (chat.complete)",
      path: "/trpc/chat.complete",
      body: (text: string) => ({ message: text }),
    },
    {
      surface: "the AI SDK's /api/chat",
      path: "/api/chat",
      body: (text: string) => ({
        id: `chat-${randomBytes(4).toString("hex")}`,
        messages: [{ id: "m1", role: "user", parts: [{ type: "text", text }] }],
      }),
    },
  ])("continues the caller's trace on $surface", async ({ path, body }) => {
    const { traceId, parentSpanId, traceparent } = callerContext();
    const response = await fetch(`${brook.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent },
      body: JSON.stringify(body("otel-surface")),
    });
    expect(response.status).toBe(200);
    await response.text();

    const spans = await spansOf(traceId, (found) =>
      ["request", "invoke_agent brook", "chat gpt-4o-mini"].every((name) => found.some((span) => span.name === name)),
    );
    const request = only(spans, "request");
    expect(request.parentSpanId).toBe(parentSpanId);
    const run = only(spans, "invoke_agent brook");
    expect(descendsFrom(run, request.spanId, spans)).toBe(true);
    expect(only(spans, "chat gpt-4o-mini").parentSpanId).toBe(run.spanId);
  });

  it("marks a failing model call and its run with error status and error.type (OpenAI surface)", async () => {
    const { traceId, parentSpanId, traceparent } = callerContext();
    const response = await fetch(`${brook.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent },
      body: JSON.stringify({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `otel-failure ${fake({ status: 500, errorMessage: "boom" })}` }],
      }),
    });
    expect(response.status).toBe(502);
    await response.text();

    const spans = await spansOf(traceId, (found) => found.some((span) => span.name === "request"));
    const request = only(spans, "request");
    expect(request.parentSpanId).toBe(parentSpanId);
    expect(request.attributes["http.response.status_code"]).toBe(502);

    const run = only(spans, "invoke_agent brook");
    expect(descendsFrom(run, request.spanId, spans)).toBe(true);
    expect(run.status.code).toBe(statusCode.error);
    expect(run.attributes["error.type"]).toBe("upstream_error");

    const chat = only(spans, "chat gpt-4o-mini");
    expect(chat.parentSpanId).toBe(run.spanId);
    expect(chat.status.code).toBe(statusCode.error);
    expect(chat.attributes["error.type"]).toBe("upstream_error");
    expect(chat.attributes["gen_ai.response.finish_reasons"]).toBeUndefined();

    await until(() =>
      receiver.points.some(
        (point) =>
          point.metric === "gen_ai.client.operation.duration" && point.attributes["error.type"] === "upstream_error",
      ),
    );
  });
});
