import { createBrookClient } from "@brook/client";
import { type ChatEvent, ChatResult, type CompleteEvent, ErrorBody, ToolList } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, streamEvents, until } from "./support/brook-harness.js";
import {
  expectOneTerminal,
  health,
  shapeOf,
  toolCallDeltas,
  toolEvents,
  toolNames,
  untilConnected,
} from "./support/mcp-harness.js";
import { type McpTestServer, pageSize, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, TOOL_TIMEOUT_MS: "1500", TOOL_RESULT_CHARS: "1000" });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

/** A message that makes the fake model call `calls` (in `shape`), then answer with the results. */
function asking(calls: Parameters<typeof toolCallDeltas>[0], shape?: Parameters<typeof toolCallDeltas>[1], extra = {}) {
  return `use the tools ${fake({ toolCallDeltas: toolCallDeltas(calls, shape), ...extra })}`;
}

/** The upstream requests of one run, found by a marker in its user message. */
function requestsOf(marker: string): Json[] {
  return brook.upstream.requests
    .map((request) => request.body)
    .filter((body: Json) =>
      body.messages.some((message: Json) => message.role === "user" && message.content.includes(marker)),
    );
}

/** The prompt tokens the fake upstream reports for a request: its message characters / 4, rounded up. */
function promptTokens(body: Json): number {
  return Math.ceil(body.messages.reduce((sum: number, message: Json) => sum + (message.content ?? "").length, 0) / 4);
}

function completeOf(events: readonly ChatEvent[]): CompleteEvent {
  expectOneTerminal(events);
  const last = events.at(-1);
  expect(last?.type).toBe("complete");
  return last as CompleteEvent;
}

describe("MCP tools over Streamable HTTP", () => {
  it("lists every page of tools under valid names, leaving out tools that need task execution", async () => {
    const names = await toolNames(brook.url);
    expect(names).toEqual(expect.arrayContaining(["add", "echo", "slow", "fail", "big", "filler_1", "filler_6"]));
    expect(names).toHaveLength(12);
    // More tools than one page holds: the list came from several pages.
    expect(names.length).toBeGreaterThan(pageSize * 2);
    expect(names).not.toContain("research");
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);

    const list = ToolList.parse(await (await fetch(`${brook.url}/tools`)).json());
    const filler = list.tools.find((tool) => tool.name === "filler_1");
    expect(filler).toMatchObject({ server: "mcp", server_tool: "filler.1" });
    const add = list.tools.find((tool) => tool.name === "add");
    expect(add?.input_schema).toMatchObject({ type: "object", properties: { a: { type: "number" } } });

    const trpcList = await createBrookClient({ url: brook.url }).trpc.tools.list.query();
    expect(trpcList.tools.map((tool) => tool.name).sort()).toEqual([...names].sort());
  });

  it("reports the server in /health and the health procedure", async () => {
    const expected = {
      name: "mcp",
      status: "connected",
      transport: "streamable_http",
      tool_count: 12,
      last_error: null,
      protocol_version: "2025-11-25",
      auth: "none",
    };
    expect((await health(brook.url)).mcp_servers).toEqual([expected]);
    const viaTrpc = await createBrookClient({ url: brook.url }).trpc.health.query();
    expect(viaTrpc.mcp_servers).toEqual([expected]);
  });

  it("offers the tools to the model as non-strict functions", async () => {
    await streamEvents(brook.url, { message: "offer-check" });
    const [body] = requestsOf("offer-check");
    const echo = body.tools.find((tool: Json) => tool.function.name === "echo");
    expect(echo).toEqual({
      type: "function",
      function: {
        name: "echo",
        description: "Echoes the text back.",
        parameters: expect.objectContaining({ type: "object" }),
        strict: false,
      },
    });
  });

  it("streams tool_call, then tool_result, then an answer that uses the result (REST SSE)", async () => {
    const events = await streamEvents(brook.url, {
      message: `round-trip ${asking([{ id: "call_rt", name: "echo", arguments: '{"text":"spring"}' }])}`,
    });
    expect(shapeOf(events)).toEqual(["start", "tool_call", "tool_result", "content", "complete"]);
    expect(toolEvents(events)).toEqual([
      { type: "tool_call", id: "call_rt", name: "echo", arguments: '{"text":"spring"}' },
      { type: "tool_result", id: "call_rt", name: "echo", result: "echo: spring", is_error: false },
    ]);
    const complete = completeOf(events);
    expect(complete.full_content).toBe("Tool said: echo: spring");
    expect(complete.finish_reason).toBe("stop");

    // The model saw its own call and the result, in OpenAI's shape.
    const [first, second] = requestsOf("round-trip");
    expect(second.messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_rt", type: "function", function: { name: "echo", arguments: '{"text":"spring"}' } }],
      },
      { role: "tool", tool_call_id: "call_rt", content: "echo: spring" },
    ]);
    // Usage adds up both model calls.
    expect(complete.usage.input_tokens).toBe(promptTokens(first) + promptTokens(second));
    expect(complete.usage.estimated).toBe(false);
    expect(complete.usage.output_tokens).toBeGreaterThan(3);
  });

  it("counts a model call whose server reports no usage, and says the total is estimated", async () => {
    const events = await streamEvents(brook.url, {
      message: `half-reported ${asking([{ id: "call_u", name: "echo", arguments: '{"text":"count me"}' }], "openai", {
        afterTools: { text: "Counted locally.", omitUsage: true },
      })}`,
    });
    const complete = completeOf(events);
    expect(complete.full_content).toBe("Counted locally.");
    expect(complete.usage.estimated).toBe(true);
    const [first] = requestsOf("half-reported");
    // The first call's reported prompt, plus a local count of the second call's prompt.
    expect(complete.usage.input_tokens).toBeGreaterThan(promptTokens(first));
    expect(complete.usage.total_tokens).toBe(complete.usage.input_tokens + complete.usage.output_tokens);
  });

  it("streams the same over the tRPC subscription", async () => {
    const events: ChatEvent[] = [];
    const client = createBrookClient({ url: brook.url });
    for await (const event of client.streamChat({
      message: asking([{ id: "call_t", name: "add", arguments: '{"a":2,"b":40}' }], "whole"),
    })) {
      events.push(event);
    }
    expect(shapeOf(events)).toEqual(["start", "tool_call", "tool_result", "content", "complete"]);
    expect(toolEvents(events)[1]).toEqual({
      type: "tool_result",
      id: "call_t",
      name: "add",
      result: "42",
      is_error: false,
    });
    expect(completeOf(events).full_content).toBe("Tool said: 42");
  });

  it("lists the calls with their results in the non-streaming answer (POST /chat and chat.complete)", async () => {
    const message = asking([{ id: "call_np", name: "echo", arguments: '{"text":"plain"}' }]);
    const response = await fetch(`${brook.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message }),
    });
    expect(response.status).toBe(200);
    const result = ChatResult.parse(await response.json());
    expect(result.response).toBe("Tool said: echo: plain");
    expect(result.tool_calls).toEqual([
      {
        call: { id: "call_np", name: "echo", arguments: '{"text":"plain"}' },
        result: { id: "call_np", name: "echo", result: "echo: plain", is_error: false },
      },
    ]);
    const viaTrpc = await createBrookClient({ url: brook.url }).trpc.chat.complete.mutate({ message });
    expect(viaTrpc.tool_calls?.[0]?.result?.result).toBe("echo: plain");
  });

  it("reports a failing tool as an error result that the model sees", async () => {
    const events = await streamEvents(brook.url, {
      message: `failing ${asking([{ id: "call_f", name: "fail", arguments: "{}" }])}`,
    });
    const [, result] = toolEvents(events);
    expect(result).toMatchObject({ type: "tool_result", id: "call_f", is_error: true });
    expect(result?.type === "tool_result" && result.result).toContain("the disk is on fire");
    const [, second] = requestsOf("failing");
    expect(second.messages.at(-1).content).toContain("the disk is on fire");
    expect(completeOf(events).full_content).toContain("the disk is on fire");
  });

  it("answers arguments that are not JSON with an error result, without calling the tool", async () => {
    const before = mcp.log.calls.length;
    const events = await streamEvents(brook.url, {
      message: `bad-json ${asking([{ id: "call_bad", name: "echo", arguments: '{"text": "unterminated' }])}`,
    });
    const [, result] = toolEvents(events);
    expect(result).toMatchObject({ type: "tool_result", id: "call_bad", is_error: true });
    expect(result?.type === "tool_result" && result.result).toMatch(/not valid JSON/);
    expect(mcp.log.calls.slice(before).filter((call) => call.name === "echo")).toEqual([]);
    const [, second] = requestsOf("bad-json");
    expect(second.messages.at(-1).content).toMatch(/not valid JSON/);
    completeOf(events);
  });

  it("answers a tool that takes too long with a timeout error result, and cancels the call", async () => {
    const events = await streamEvents(brook.url, {
      message: `too-slow ${asking([{ id: "call_slow", name: "slow", arguments: '{"ms":60000}' }])}`,
    });
    const [, result] = toolEvents(events);
    expect(result).toMatchObject({ type: "tool_result", id: "call_slow", is_error: true });
    expect(result?.type === "tool_result" && result.result).toMatch(/did not answer within 1500 ms/);
    completeOf(events);
    await until(() => mcp.log.cancelled.includes("slow"));
  });

  it("cancels the MCP call when the client leaves during a long tool call", async () => {
    const cancelledBefore = mcp.log.cancelled.length;
    const callsBefore = mcp.log.calls.length;
    const controller = new AbortController();
    const response = await fetch(`${brook.url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        message: asking([{ id: "call_long", name: "slow", arguments: '{"ms":60000}' }]),
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"tool_call"')) text += decoder.decode((await reader.read()).value);
    // The tool is running on the MCP server now.
    await until(() => mcp.log.calls.length > callsBefore);
    controller.abort();
    await until(() => mcp.log.cancelled.length > cancelledBefore);
    expect(mcp.log.cancelled.at(-1)).toBe("slow");
    await until(async () => (await health(brook.url)).active_runs === 0);
  });

  it("cancels the MCP call when a tRPC client aborts its stream during a long tool call", async () => {
    const cancelledBefore = mcp.log.cancelled.length;
    const callsBefore = mcp.log.calls.length;
    const controller = new AbortController();
    const events: ChatEvent[] = [];
    // Abort once the tool is running on the MCP server.
    void until(() => mcp.log.calls.length > callsBefore).then(() => controller.abort());
    const client = createBrookClient({ url: brook.url });
    const reading = (async () => {
      for await (const event of client.streamChat(
        { message: asking([{ id: "call_trpc_long", name: "slow", arguments: '{"ms":60000}' }]) },
        { signal: controller.signal },
      )) {
        events.push(event);
      }
    })();
    await reading.catch(() => {});
    expect(events.map((event) => event.type)).toContain("tool_call");
    await until(() => mcp.log.cancelled.length > cancelledBefore);
    await until(async () => (await health(brook.url)).active_runs === 0);
  });

  it("runs two parallel calls and gives each its result (repeated index, whole arguments)", async () => {
    const events = await streamEvents(brook.url, {
      message: `parallel ${asking(
        [
          { id: "call_p1", name: "add", arguments: '{"a":1,"b":2}' },
          { id: "call_p2", name: "echo", arguments: '{"text":"two"}' },
        ],
        "repeated-index",
      )}`,
    });
    const calls = toolEvents(events).filter((event) => event.type === "tool_call");
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(calls.map((event) => event.id)).toEqual(["call_p1", "call_p2"]);
    expect(results.map((event) => [event.id, event.type === "tool_result" && event.result]).sort()).toEqual([
      ["call_p1", "3"],
      ["call_p2", "echo: two"],
    ]);
    const [, second] = requestsOf("parallel");
    expect(second.messages.slice(-2)).toEqual([
      { role: "tool", tool_call_id: "call_p1", content: "3" },
      { role: "tool", tool_call_id: "call_p2", content: "echo: two" },
    ]);
    expect(completeOf(events).full_content).toBe("Tool said: 3 | echo: two");
  });

  it("runs the calls of one turn at the same time", async () => {
    // Each call answers only once both have arrived: one after the other, the first would time out.
    const meet = (id: string) => ({ id, name: "meet", arguments: '{"group":"pair","count":2}' });
    const events = await streamEvents(brook.url, { message: asking([meet("call_m1"), meet("call_m2")]) });
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results.map((event) => [event.id, event.result, event.is_error]).sort()).toEqual([
      ["call_m1", "met pair", false],
      ["call_m2", "met pair", false],
    ]);
  });

  it("assembles calls without index or without id, and gives id-less calls an id", async () => {
    for (const shape of ["no-index", "no-id"] as const) {
      const events = await streamEvents(brook.url, {
        message: asking(
          [
            { name: "echo", arguments: '{"text":"first"}' },
            { name: "add", arguments: '{"a":5,"b":5}' },
          ],
          shape,
        ),
      });
      const [call1, call2, ...results] = toolEvents(events);
      expect([call1?.type, call2?.type], shape).toEqual(["tool_call", "tool_call"]);
      expect(call1?.id, shape).not.toBe(call2?.id);
      expect(call1?.id, shape).toMatch(/\S/);
      const byId = new Map(results.map((event) => [event.id, event.type === "tool_result" ? event.result : ""]));
      expect(byId.get(call1!.id), shape).toBe("echo: first");
      expect(byId.get(call2!.id), shape).toBe("10");
    }
  });

  it("cuts very large results, with a note", async () => {
    const events = await streamEvents(brook.url, {
      message: asking([{ id: "call_big", name: "big", arguments: '{"chars":50000}' }]),
    });
    const [, result] = toolEvents(events);
    expect(result?.type).toBe("tool_result");
    if (result?.type !== "tool_result") return;
    expect(result.is_error).toBe(false);
    expect(result.result.length).toBeLessThan(1200);
    expect(result.result).toContain("truncated: the result had 50000 characters");
  });

  it("does not offer tools when the request says tools: false, and offers only the named ones", async () => {
    await streamEvents(brook.url, { message: "no-tools-please", tools: false });
    expect(requestsOf("no-tools-please")[0].tools).toBeUndefined();
    await streamEvents(brook.url, { message: "only-echo-please", tools: ["echo", "no-such-tool"] });
    const offered = requestsOf("only-echo-please")[0].tools.map((tool: Json) => tool.function.name);
    expect(offered).toEqual(["echo"]);
  });

  it("refuses a call to a tool the request did not offer, as an error result", async () => {
    const events = await streamEvents(brook.url, {
      message: asking([{ id: "call_x", name: "add", arguments: '{"a":1,"b":1}' }]),
      tools: ["echo"],
    });
    expect(toolEvents(events)[1]).toMatchObject({ id: "call_x", is_error: true });
    completeOf(events);
  });

  it("rejects a bad tools field with a 400 naming it", async () => {
    const response = await fetch(`${brook.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", tools: "all" }),
    });
    expect(response.status).toBe(400);
    const body = ErrorBody.parse(await response.json());
    expect(body.code).toBe("bad_request");
    expect(Object.keys(body.fields ?? {})).toEqual(["tools"]);
  });

  it("stops after MAX_TOOL_STEPS rounds with a clear finish reason", async () => {
    const steps = await startHarness({ MCP_URL: mcp.url, MAX_TOOL_STEPS: "2" });
    try {
      await untilConnected(steps.url);
      const again = toolCallDeltas([{ name: "add", arguments: '{"a":1,"b":1}' }]);
      const events = await streamEvents(steps.url, {
        message: `loop ${fake({ toolCallDeltas: again, afterTools: { toolCallDeltas: again } })}`,
      });
      expect(toolEvents(events).filter((event) => event.type === "tool_result")).toHaveLength(2);
      const complete = completeOf(events);
      expect(complete.finish_reason).toBe("max_tool_steps");
      // Three model calls, all of them counted.
      expect(steps.upstream.requests).toHaveLength(3);
      const bodies = steps.upstream.requests.map((request) => request.body);
      expect(complete.usage.input_tokens).toBe(bodies.reduce((sum, body) => sum + promptTokens(body), 0));
    } finally {
      await steps.close();
    }
  });

  it("refreshes the tool list when the server says it changed", async () => {
    mcp.addTool("late_tool", "late answer");
    await until(async () => (await toolNames(brook.url)).includes("late_tool"));
    const events = await streamEvents(brook.url, {
      message: asking([{ id: "call_late", name: "late_tool", arguments: "{}" }]),
    });
    expect(toolEvents(events)[1]).toMatchObject({ result: "late answer", is_error: false });
  });

  it("opens one new session and retries once when the server has forgotten the session", async () => {
    const sessions = mcp.sessionsStarted();
    mcp.forgetSessions();
    // Two parallel calls both find the session gone: they share one new session.
    const events = await streamEvents(brook.url, {
      message: asking(
        [
          { id: "call_exp1", name: "echo", arguments: '{"text":"again"}' },
          { id: "call_exp2", name: "add", arguments: '{"a":7,"b":8}' },
        ],
        "whole",
      ),
    });
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results.map((event) => [event.id, event.result, event.is_error]).sort()).toEqual([
      ["call_exp1", "echo: again", false],
      ["call_exp2", "15", false],
    ]);
    expect(mcp.sessionsStarted()).toBe(sessions + 1);
    expect((await health(brook.url)).mcp_servers[0]).toMatchObject({ status: "connected", tool_count: 13 });
  });
});
