import { createBrookClient } from "@brook/client";
import { type ChatEvent, ErrorBody, readChatEvents, Stats, type ToolApprovalEvent, ToolList } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, openChatStream, startHarness, until } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "echo,slow", APPROVAL_TIMEOUT_MS: "60000" });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

/** A message that makes the fake model call `calls`, then answer with the results. */
const asking = (calls: Parameters<typeof toolCallDeltas>[0]) =>
  `use the tools ${fake({ toolCallDeltas: toolCallDeltas(calls) })}`;

/** A `POST /chat/stream` read as it goes: its events so far, and its end. */
function openStream(url: string, body: unknown, init: RequestInit = {}) {
  const stream = openChatStream(url, body, init);
  return { ...stream, approvals: () => stream.ofType("tool_approval") };
}

function answer(url: string, runId: string, approvalId: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/runs/${runId}/approvals/${approvalId}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The upstream requests of one run, found by a marker in its user message. */
function requestsOf(marker: string): Json[] {
  return brook.upstream.requests
    .map((request) => request.body)
    .filter((body: Json) =>
      body.messages.some((message: Json) => message.role === "user" && message.content.includes(marker)),
    );
}

describe("tool approval (TOOL_APPROVAL) with a real MCP server", () => {
  it("lists which tools need approval", async () => {
    const list = ToolList.parse(await (await fetch(`${brook.url}/tools`)).json());
    expect(list.tools.find((tool) => tool.name === "echo")?.needs_approval).toBe(true);
    expect(list.tools.find((tool) => tool.name === "slow")?.needs_approval).toBe(true);
    expect(list.tools.find((tool) => tool.name === "add")?.needs_approval).toBe(false);
  });

  it("waits after tool_call, runs the tool once approved over REST, refuses a second answer with 409", async () => {
    const calls = mcp.log.calls.length;
    const stream = openStream(brook.url, {
      message: `approve-me ${asking([{ name: "echo", arguments: '{"text":"ok"}' }])}`,
    });
    await until(() => stream.approvals().length === 1);
    const [approval] = stream.approvals() as [ToolApprovalEvent];
    expect(approval).toMatchObject({ name: "echo", arguments: '{"text":"ok"}', server: "mcp", id: "call_0" });
    // Nothing ran while it waits.
    expect(mcp.log.calls.length).toBe(calls);
    const types = stream.events.map((event) => event.type);
    expect(types.indexOf("tool_call")).toBeLessThan(types.indexOf("tool_approval"));

    const ok = await answer(brook.url, stream.runId(), approval.approval_id, { approved: true });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ run_id: stream.runId(), approval_id: approval.approval_id, approved: true });
    const again = await answer(brook.url, stream.runId(), approval.approval_id, { approved: false });
    expect(again.status).toBe(409);
    expect(ErrorBody.parse(await again.json()).code).toBe("already_answered");

    const events = await stream.done;
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "tool_result")).toMatchObject({
      result: "echo: ok",
      is_error: false,
      approval: "approved",
    });
    expect(events.at(-1)).toMatchObject({ type: "complete", full_content: "Tool said: echo: ok" });
    expect(mcp.log.calls.slice(calls).map((call) => call.name)).toEqual(["echo"]);
    // The run has ended, and a POST stream's run is forgotten with its connection: unknown, never a 500.
    expect((await answer(brook.url, stream.runId(), approval.approval_id, { approved: true })).status).toBe(404);
  });

  it("denies through tRPC with a reason: the tool never runs and the model goes on with the denial", async () => {
    const client = createBrookClient({ url: brook.url });
    const calls = mcp.log.calls.length;
    const events: ChatEvent[] = [];
    for await (const event of client.streamChat(
      { message: `deny-me ${asking([{ name: "echo", arguments: '{"text":"secret"}' }])}` },
      { onApproval: () => ({ approved: false, reason: "not the secret" }) },
    )) {
      events.push(event);
    }
    expectOneTerminal(events);
    const result = events.find((event) => event.type === "tool_result");
    expect(result).toMatchObject({ is_error: true, approval: "denied" });
    expect(result?.type === "tool_result" && result.result).toContain("not the secret");
    expect(mcp.log.calls.length).toBe(calls);
    const [, second] = requestsOf("deny-me");
    const toolMessage = second.messages.find((message: Json) => message.role === "tool");
    expect(toolMessage.content).toContain("denied");
    expect(events.at(-1)?.type).toBe("complete");
    // A resumable run is kept once it ended: an answer now is a conflict.
    const start = events[0] as Extract<ChatEvent, { type: "start" }>;
    const approval = events.find((event) => event.type === "tool_approval") as ToolApprovalEvent;
    const late = await client.approve(start.run_id, approval.approval_id).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(TRPCClientError);
    expect((late as TRPCClientError<never>).data).toMatchObject({ httpStatus: 409, brook_code: "already_answered" });
    expect((await answer(brook.url, start.run_id, approval.approval_id, { approved: true })).status).toBe(409);
  });

  it("asks about several calls of one step together and takes each answer on its own", async () => {
    const client = createBrookClient({ url: brook.url });
    const stream = openStream(brook.url, {
      message: `two ${asking([
        { name: "echo", arguments: '{"text":"one"}' },
        { name: "add", arguments: '{"a":1,"b":2}' },
        { name: "echo", arguments: '{"text":"two"}' },
      ])}`,
    });
    await until(() => stream.approvals().length === 2);
    // The call that needs no approval ran already.
    await until(() => stream.events.some((event) => event.type === "tool_result" && event.name === "add"));
    const [first, second] = stream.approvals() as [ToolApprovalEvent, ToolApprovalEvent];
    await client.deny(stream.runId(), second.approval_id);
    await until(() => stream.events.some((event) => event.type === "tool_result" && event.id === second.id));
    expect(stream.events.some((event) => event.type === "tool_result" && event.id === first.id)).toBe(false);
    await client.approve(stream.runId(), first.approval_id);
    const events = await stream.done;
    expectOneTerminal(events);
    expect(events.at(-1)).toMatchObject({
      type: "complete",
      full_content: "Tool said: echo: one | 3 | The user denied this tool call; it was not run.",
    });
  });

  it("answers 404 for an unknown run or approval, and 400 naming the field for a bad body", async () => {
    expect((await answer(brook.url, "no-such-run", "x", { approved: true })).status).toBe(404);
    const stream = openStream(brook.url, {
      message: `bad-answers ${asking([{ name: "echo", arguments: '{"text":"x"}' }])}`,
    });
    await until(() => stream.approvals().length === 1);
    const runId = stream.runId();
    const [approval] = stream.approvals() as [ToolApprovalEvent];
    expect((await answer(brook.url, runId, "no-such-approval", { approved: true })).status).toBe(404);
    const missing = await answer(brook.url, runId, approval.approval_id, { reason: "why" });
    expect(missing.status).toBe(400);
    expect(ErrorBody.parse(await missing.json()).fields).toHaveProperty("approved");
    const huge = await answer(brook.url, runId, approval.approval_id, { approved: false, reason: "x".repeat(5_000) });
    expect(huge.status).toBe(400);
    expect(ErrorBody.parse(await huge.json()).fields).toHaveProperty("reason");
    expect((await answer(brook.url, runId, approval.approval_id, "{not json")).status).toBe(400);
    // tRPC names the field too.
    const client = createBrookClient({ url: brook.url });
    const refused = await client.trpc.chat.approve
      .mutate({ run_id: runId, approval_id: approval.approval_id, approved: "yes" as unknown as boolean })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).data).toMatchObject({ httpStatus: 400 });
    // Still waiting, and still answerable.
    expect((await answer(brook.url, runId, approval.approval_id, { approved: true })).status).toBe(200);
    expectOneTerminal(await stream.done);
  });

  it("shows the pending approval again over Last-Event-ID and chat.events while the run waits", async () => {
    const stream = openStream(brook.url, {
      message: `resume-2 ${asking([{ name: "echo", arguments: '{"text":"r"}' }])}`,
    });
    await until(() => stream.approvals().length === 1);
    const runId = stream.runId();
    // GET /chat/stream resumes after the start event (seq 0): the approval is there again.
    const resumed = await fetch(`${brook.url}/chat/stream`, { headers: { "last-event-id": `${runId}:0` } });
    const again: ChatEvent[] = [];
    const reader = (async () => {
      for await (const { event } of readChatEvents(resumed.body as ReadableStream<Uint8Array>)) {
        again.push(event);
      }
    })();
    await until(() => again.some((event) => event.type === "tool_approval"));
    const client = createBrookClient({ url: brook.url });
    const tracked: ChatEvent[] = [];
    const subscription = client.trpc.chat.events.subscribe(
      { run_id: runId },
      { onData: ({ data }) => tracked.push(data) },
    );
    await until(() => tracked.some((event) => event.type === "tool_approval"));
    subscription.unsubscribe();
    const [approval] = stream.approvals() as [ToolApprovalEvent];
    expect(again.find((event) => event.type === "tool_approval")).toEqual(approval);
    await client.approve(runId, approval.approval_id);
    await reader;
    expect(again.at(-1)?.type).toBe("complete");
    expectOneTerminal(await stream.done);
  });

  it("ends a run cancelled while it waits with one terminal event", async () => {
    const client = createBrookClient({ url: brook.url });
    const stream = openStream(brook.url, {
      message: `cancel ${asking([{ name: "echo", arguments: '{"text":"c"}' }])}`,
    });
    await until(() => stream.approvals().length === 1);
    await client.trpc.chat.cancel.mutate({ run_id: stream.runId() });
    const events = await stream.done;
    expectOneTerminal(events);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "cancelled" });
  });

  it("does not offer tools that need approval to a whole answer (POST /chat), where nobody can be asked", async () => {
    const response = await fetch(`${brook.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "whole-answer" }),
    });
    expect(response.status).toBe(200);
    const [request] = requestsOf("whole-answer");
    const offered = (request.tools as Json[]).map((tool) => tool.function.name);
    expect(offered).toContain("add");
    expect(offered).not.toContain("echo");
    // Nor at /v1: OpenAI's format cannot ask a person.
    const openai = await fetch(`${brook.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "openai-answer" }] }),
    });
    expect(openai.status).toBe(200);
    const [v1] = requestsOf("openai-answer");
    expect((v1.tools as Json[]).map((tool) => tool.function.name)).not.toContain("echo");
  });
});

describe("tool approval timeouts and bounds", () => {
  it("lets only the key that started the run answer (BROOK_API_KEYS)", async () => {
    const keyed = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "all", BROOK_API_KEYS: "alice-key,bob-key" });
    try {
      await untilConnected(keyed.url);
      const alice = { authorization: "Bearer alice-key" };
      const stream = openStream(
        keyed.url,
        { message: asking([{ name: "echo", arguments: '{"text":"k"}' }]) },
        { headers: { "content-type": "application/json", ...alice } },
      );
      await until(() => stream.approvals().length === 1);
      const [approval] = stream.approvals() as [ToolApprovalEvent];
      const runId = stream.runId();
      expect((await answer(keyed.url, runId, approval.approval_id, { approved: true })).status).toBe(401);
      const bob = await answer(
        keyed.url,
        runId,
        approval.approval_id,
        { approved: true },
        { authorization: "Bearer bob-key" },
      );
      expect(bob.status).toBe(404);
      expect((await answer(keyed.url, runId, approval.approval_id, { approved: true }, alice)).status).toBe(200);
      expectOneTerminal(await stream.done);
    } finally {
      await keyed.close();
    }
  });

  it("denies an approval nobody answers within APPROVAL_TIMEOUT_MS as timed out, and the model goes on", async () => {
    const quick = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "all", APPROVAL_TIMEOUT_MS: "200" });
    try {
      await untilConnected(quick.url);
      const stream = openStream(quick.url, { message: asking([{ name: "echo", arguments: '{"text":"late"}' }]) });
      const events = await stream.done;
      expectOneTerminal(events);
      const result = events.find((event) => event.type === "tool_result");
      expect(result).toMatchObject({ is_error: true, approval: "timed_out" });
      expect(result?.type === "tool_result" && result.result).toContain("timed out");
      expect(events.at(-1)?.type).toBe("complete");
      const [approval] = stream.approvals() as [ToolApprovalEvent];
      expect((await answer(quick.url, stream.runId(), approval.approval_id, { approved: true })).status).toBe(404);
      // Counted once, in /stats and /metrics.
      const stats = Stats.parse(await (await fetch(`${quick.url}/stats`)).json());
      expect(stats.approvals).toEqual({ requested: 1, approved: 0, denied: 0, timed_out: 1 });
      const metrics = await (await fetch(`${quick.url}/metrics`)).text();
      expect(metrics).toMatch(/brook_tool_approvals_total\{decision="requested"\} 1\n/);
      expect(metrics).toMatch(/brook_tool_approvals_total\{decision="timed_out"\} 1\n/);
    } finally {
      await quick.close();
    }
  });

  it("waiting is not silence for IDLE_TIMEOUT_MS, and MAX_RUN_MS still ends the run", async () => {
    const bounded = await startHarness({
      MCP_URL: mcp.url,
      TOOL_APPROVAL: "all",
      IDLE_TIMEOUT_MS: "100",
      FIRST_TOKEN_TIMEOUT_MS: "100",
      MAX_RUN_MS: "600",
    });
    try {
      await untilConnected(bounded.url);
      const stream = openStream(bounded.url, { message: asking([{ name: "echo", arguments: '{"text":"x"}' }]) });
      const events = await stream.done;
      expectOneTerminal(events);
      expect(events.at(-1)).toMatchObject({ type: "error", code: "timeout" });
      expect((events.at(-1) as { error: string }).error).toContain("MAX_RUN_MS");
    } finally {
      await bounded.close();
    }
  });

  it("ends a waiting run as shutdown when Brook stops", async () => {
    const stopping = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "all" });
    await untilConnected(stopping.url);
    const stream = openStream(stopping.url, { message: asking([{ name: "echo", arguments: '{"text":"x"}' }]) });
    await until(() => stream.approvals().length === 1);
    await stopping.close();
    const events = await stream.done;
    expectOneTerminal(events);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "shutdown" });
  });
});
