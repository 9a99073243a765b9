import { createBrookClient } from "@brook/client";
import { type ChatEvent, ErrorBody, type InputRequestEvent, readChatEvents } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, openChatStream, startHarness, until } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { askSchema, type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer({ elicitation: true });
  // A tool's own time is short: a person's answer takes longer, and the call still succeeds.
  brook = await startHarness({ MCP_URL: mcp.url, TOOL_TIMEOUT_MS: "1500", INPUT_TIMEOUT_MS: "60000" });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

/** A message that makes the fake model call `ask`, then answer with its result. */
const asking = (marker: string) =>
  `${marker} ${fake({ toolCallDeltas: toolCallDeltas([{ name: "ask", arguments: "{}" }]) })}`;

/** A `POST /chat/stream` read as it goes: its events so far, and its end. */
function openStream(url: string, message: string) {
  const stream = openChatStream(url, { message });
  return { ...stream, inputs: () => stream.ofType("input_request") };
}

function answer(url: string, runId: string, inputId: string, body: unknown) {
  return fetch(`${url}/runs/${runId}/inputs/${inputId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const toolResult = (events: readonly ChatEvent[]) => events.find((event) => event.type === "tool_result");

describe("elicitation: an MCP server's question pauses the run until a person answers", () => {
  it("REST: input_request after tool_call, 400 naming the field that does not fit, then the content (with defaults) reaches the tool", async () => {
    const stream = openStream(brook.url, asking("rest-accept"));
    await until(() => stream.inputs().length === 1);
    const [input] = stream.inputs() as [InputRequestEvent];
    expect(input).toMatchObject({
      type: "input_request",
      id: "call_0",
      name: "ask",
      server: "mcp",
      message: "Who are you?",
      requested_schema: { type: "object", required: ["name", "age"] },
    });
    const types = stream.events.map((event) => event.type);
    expect(types.indexOf("tool_call")).toBeLessThan(types.indexOf("input_request"));

    const wrongType = await answer(brook.url, stream.runId(), input.input_id, {
      action: "accept",
      content: { name: "Ada", age: "old" },
    });
    expect(wrongType.status).toBe(400);
    const wrongBody = ErrorBody.parse(await wrongType.json());
    expect(wrongBody.code).toBe("bad_request");
    expect(wrongBody.error).toContain("content.age");
    const missing = await answer(brook.url, stream.runId(), input.input_id, { action: "accept", content: { age: 36 } });
    expect(missing.status).toBe(400);
    expect(ErrorBody.parse(await missing.json()).error).toContain("content.name");
    const badAction = await answer(brook.url, stream.runId(), input.input_id, { action: "maybe" });
    expect(badAction.status).toBe(400);
    expect(ErrorBody.parse(await badAction.json()).error).toContain("action");

    // The person takes longer than TOOL_TIMEOUT_MS (1500): the tool's time stops while they answer.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const ok = await answer(brook.url, stream.runId(), input.input_id, {
      action: "accept",
      content: { name: "Ada", age: 36 },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ run_id: stream.runId(), input_id: input.input_id, action: "accept" });
    const again = await answer(brook.url, stream.runId(), input.input_id, { action: "decline" });
    expect(again.status).toBe(409);
    expect(ErrorBody.parse(await again.json()).code).toBe("already_answered");

    const events = await stream.done;
    expectOneTerminal(events);
    const expected = 'accept {"name":"Ada","age":36,"color":"green","subscribe":false}';
    expect(toolResult(events)).toMatchObject({ result: expected, is_error: false });
    expect(events.at(-1)).toMatchObject({ type: "complete", full_content: `Tool said: ${expected}` });
  });

  it("REST: decline and cancel reach the tool as such", async () => {
    for (const action of ["decline", "cancel"] as const) {
      const stream = openStream(brook.url, asking(`rest-${action}`));
      await until(() => stream.inputs().length === 1);
      const [input] = stream.inputs() as [InputRequestEvent];
      // Content with a decline is not checked: nothing is sent to the server.
      const ok = await answer(brook.url, stream.runId(), input.input_id, { action, content: { age: "x" } });
      expect(ok.status).toBe(200);
      const events = await stream.done;
      expectOneTerminal(events);
      expect(toolResult(events)).toMatchObject({ result: action, is_error: false });
    }
  });

  it("tRPC: the typed client's onInputRequest answers, and answerInput refuses a second answer with 409", async () => {
    const client = createBrookClient({ url: brook.url });
    const asked: InputRequestEvent[] = [];
    const events: ChatEvent[] = [];
    for await (const event of client.streamChat(
      { message: asking("trpc-accept") },
      {
        onInputRequest: ({ event: input }) => {
          asked.push(input);
          return { action: "accept", content: { name: "Grace", age: 45, color: "blue", subscribe: true } };
        },
      },
    )) {
      events.push(event);
    }
    expectOneTerminal(events);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.requested_schema).toEqual(askSchema);
    expect(toolResult(events)).toMatchObject({
      result: 'accept {"name":"Grace","age":45,"color":"blue","subscribe":true}',
    });
    const start = events[0] as Extract<ChatEvent, { type: "start" }>;
    const late = await client
      .answerInput(start.run_id, asked[0]?.input_id ?? "", { action: "decline" })
      .catch((error: unknown) => error);
    expect(late).toBeInstanceOf(TRPCClientError);
    expect((late as TRPCClientError<never>).data).toMatchObject({ httpStatus: 409, brook_code: "already_answered" });
  });

  it("tRPC: content that does not fit is refused with BAD_REQUEST naming the field, and the question still waits", async () => {
    const client = createBrookClient({ url: brook.url });
    const { run_id } = await client.trpc.chat.start.mutate({ message: asking("trpc-bad") });
    const events: ChatEvent[] = [];
    const reading = (async () => {
      for await (const { event } of client.readRun(run_id)) events.push(event);
    })();
    await until(() => events.some((event) => event.type === "input_request"));
    const input = events.find((event) => event.type === "input_request") as InputRequestEvent;
    const refused = await client
      .answerInput(run_id, input.input_id, { action: "accept", content: { name: "Ada", age: -1 } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).data).toMatchObject({
      httpStatus: 400,
      brook_code: "bad_request",
      fields: { "content.age": [expect.stringContaining(">= 0")] },
    });
    expect(await client.answerInput(run_id, input.input_id, { action: "cancel" })).toEqual({
      run_id,
      input_id: input.input_id,
      action: "cancel",
    });
    await reading;
    expect(toolResult(events)).toMatchObject({ result: "cancel" });
  });

  it("/v1 cannot ask: the question is declined and the tool result says so", async () => {
    const openai = new OpenAI({ baseURL: `${brook.url}/v1`, apiKey: "unused" });
    const completion = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: asking("v1-decline") }],
    });
    const text = completion.choices[0]?.message.content ?? "";
    expect(text).toContain("Tool said: decline");
    expect(text).toContain("Brook declined: it has no way to ask the user here");
  });

  it("an unknown input is 404 and an unknown run is 404, never a 500", async () => {
    const stream = openStream(brook.url, asking("unknown"));
    await until(() => stream.inputs().length === 1);
    expect((await answer(brook.url, stream.runId(), "nope", { action: "decline" })).status).toBe(404);
    expect((await answer(brook.url, "no-such-run", "nope", { action: "decline" })).status).toBe(404);
    const [input] = stream.inputs() as [InputRequestEvent];
    expect((await answer(brook.url, stream.runId(), input.input_id, { action: "decline" })).status).toBe(200);
    expectOneTerminal(await stream.done);
  });
});

describe("elicitation timeout (INPUT_TIMEOUT_MS)", () => {
  let quick: Harness;

  beforeAll(async () => {
    quick = await startHarness({ MCP_URL: mcp.url, INPUT_TIMEOUT_MS: "200" });
    await untilConnected(quick.url);
  });

  afterAll(async () => {
    await quick?.close();
  });

  it("declines a question nobody answers in time, and the result says so", async () => {
    const stream = openStream(quick.url, asking("timeout"));
    const events = await stream.done;
    expectOneTerminal(events);
    const input = events.find((event) => event.type === "input_request") as InputRequestEvent;
    expect(input).toBeDefined();
    const result = toolResult(events);
    expect(result?.type === "tool_result" && result.result).toMatch(/^decline\n.*nobody answered within 200 ms/);
    expect((await answer(quick.url, stream.runId(), input.input_id, { action: "decline" })).status).toBe(404);
  });
});

describe("elicitation with BROOK_API_KEYS", () => {
  it("lets only the key that started the run answer its question", async () => {
    const keyed = await startHarness({ MCP_URL: mcp.url, BROOK_API_KEYS: "alice-key,bob-key" });
    try {
      await untilConnected(keyed.url);
      const alice = { authorization: "Bearer alice-key" };
      const events: ChatEvent[] = [];
      const done = (async () => {
        const response = await fetch(`${keyed.url}/chat/stream`, {
          method: "POST",
          headers: { "content-type": "application/json", ...alice },
          body: JSON.stringify({ message: asking("keyed") }),
        });
        if (response.body === null) throw new Error(`no body (${response.status})`);
        for await (const { event } of readChatEvents(response.body)) events.push(event);
      })();
      await until(() => events.some((event) => event.type === "input_request"));
      const start = events.find((event) => event.type === "start");
      const runId = start?.type === "start" ? start.run_id : "";
      const input = events.find((event): event is InputRequestEvent => event.type === "input_request");
      const send = (headers: Record<string, string>) =>
        fetch(`${keyed.url}/runs/${runId}/inputs/${input?.input_id}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ action: "decline" }),
        });
      expect((await send({})).status).toBe(401);
      // Another key cannot tell the run exists, let alone answer for it.
      expect((await send({ authorization: "Bearer bob-key" })).status).toBe(404);
      expect((await send(alice)).status).toBe(200);
      await done;
      expectOneTerminal(events);
      expect(toolResult(events)).toMatchObject({ result: "decline" });
    } finally {
      await keyed.close();
    }
  });
});
