/**
 * The AI SDK's own client against Brook's `/api/chat`, unchanged: `DefaultChatTransport` and
 * `readUIMessageStream` of `ai` 7 and of `ai` 6, in Node.
 */
import { BrookMessageMetadata, UIMessageChunk } from "@brook/shared";
import * as ai7 from "ai";
import * as ai6 from "ai6";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake, sseData } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, RUN_RETENTION_MS: "60000" });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

/** The upstream requests whose last user message contains `marker`. */
function requestsOf(marker: string): Json[] {
  return brook.upstream.requests
    .map((request) => request.body)
    .filter((body: Json) =>
      body.messages.findLast((message: Json) => message.role === "user")?.content.includes(marker),
    );
}

let chats = 0;
const newChatId = () => `chat-${process.pid}-${++chats}`;

/** What the tests use of each release (the same API in both). */
interface Sdk {
  DefaultChatTransport: new (options: { api: string; body?: object }) => ai7.DefaultChatTransport<ai7.UIMessage>;
  readUIMessageStream: typeof ai7.readUIMessageStream;
}

const sdks: [string, Sdk][] = [
  ["ai 7", ai7],
  ["ai 6", ai6 as unknown as Sdk],
];

describe.each(sdks)("useChat's transport (%s) against /api/chat", (_name, sdk) => {
  type Message = ai7.UIMessage;

  const userMessage = (text: string, id = `u-${++chats}`): Message => ({
    id,
    role: "user",
    parts: [{ type: "text", text }],
  });

  function transport() {
    return new sdk.DefaultChatTransport({ api: `${brook.url}/api/chat` });
  }

  /** Sends the messages and reads the answer to its end: every snapshot, and any error. */
  async function send(chatId: string, messages: Message[], abortSignal?: AbortSignal) {
    const stream = await transport().sendMessages({
      chatId,
      messages: messages as never,
      trigger: "submit-message",
      messageId: undefined,
      abortSignal,
    });
    return read(stream);
  }

  async function read(stream: ReadableStream<unknown>) {
    const errors: unknown[] = [];
    const snapshots: Message[] = [];
    for await (const message of sdk.readUIMessageStream({
      stream: stream as never,
      onError: (error: unknown) => errors.push(error),
    })) {
      snapshots.push(structuredClone(message) as Message);
    }
    return { message: snapshots.at(-1), snapshots, errors };
  }

  it("streams an answer as text parts, with Brook's run, usage and timing in the message metadata", async () => {
    const { message, snapshots, errors } = await send(newChatId(), [
      userMessage(`plain ${fake({ chunks: ["Spring ", "wind ", "brushes ", "the face."] })}`),
    ]);
    expect(errors).toEqual([]);
    expect(message?.role).toBe("assistant");
    expect(message?.parts).toEqual([
      { type: "step-start" },
      { type: "text", text: "Spring wind brushes the face.", state: "done" },
    ]);
    // It streamed: earlier snapshots held part of the text.
    expect(snapshots.some((snapshot) => JSON.stringify(snapshot).includes('"text":"Spring wind "'))).toBe(true);
    const metadata = BrookMessageMetadata.parse(message?.metadata);
    expect(metadata).toMatchObject({ model: "gpt-4o-mini", finish_reason: "stop" });
    expect(message?.id).toBe(metadata.run_id);
    expect(metadata.usage?.output_tokens).toBe(4);
    expect(metadata.usage?.total_tokens).toBeGreaterThan(4);
    expect(metadata.timing?.duration_ms).toBeGreaterThan(0);
  });

  it("streams the model's thinking as a reasoning part before the text", async () => {
    const { message, errors } = await send(newChatId(), [
      userMessage(`thinking ${fake({ reasoning: ["Two ", "words."], chunks: ["Hello ", "there."] })}`),
    ]);
    expect(errors).toEqual([]);
    expect(message?.parts).toMatchObject([
      { type: "step-start" },
      { type: "reasoning", text: "Two words.", state: "done" },
      { type: "text", text: "Hello there.", state: "done" },
    ]);
  });

  it("sends the earlier turns and Brook's options to the model", async () => {
    const chatId = newChatId();
    const history: Message[] = [
      { id: "s1", role: "system", parts: [{ type: "text", text: "Answer in haiku." }] },
      userMessage("first question"),
      {
        id: "a1",
        role: "assistant",
        parts: [{ type: "step-start" }, { type: "text", text: "first answer" }],
      },
      userMessage("history-check second question"),
    ];
    const stream = await new sdk.DefaultChatTransport({
      api: `${brook.url}/api/chat`,
      body: { brook: { temperature: 0.25, max_tokens: 77 } },
    }).sendMessages({
      chatId,
      messages: history as never,
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    });
    const { errors } = await read(stream);
    expect(errors).toEqual([]);
    const [body] = requestsOf("history-check");
    expect(body.messages).toEqual([
      { role: "system", content: "Answer in haiku." },
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "user", content: "history-check second question" },
    ]);
    expect(body).toMatchObject({ temperature: 0.25, max_tokens: 77 });
  });

  it("shows an MCP tool call as a provider-executed dynamic tool, and sends it back as history", async () => {
    const chatId = newChatId();
    const ask = userMessage(
      `tool-turn ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_add", name: "add", arguments: '{"a":2,"b":3}' }]) })}`,
    );
    const { message, errors } = await send(chatId, [ask]);
    expect(errors).toEqual([]);
    expect(message?.parts).toEqual([
      { type: "step-start" },
      expect.objectContaining({
        type: "dynamic-tool",
        toolName: "add",
        toolCallId: "call_add",
        state: "output-available",
        input: { a: 2, b: 3 },
        output: "5",
        providerExecuted: true,
      }),
      { type: "step-start" },
      { type: "text", text: "Tool said: 5", state: "done" },
    ]);

    // The next turn carries the call and its result, as the model made them.
    const { errors: later } = await send(chatId, [ask, message as Message, userMessage("tool-history next")]);
    expect(later).toEqual([]);
    const [body] = requestsOf("tool-history next");
    expect(body.messages.slice(1)).toEqual([
      { role: "user", content: ask.parts[0]?.type === "text" ? ask.parts[0].text : "" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_add", type: "function", function: { name: "add", arguments: '{"a":2,"b":3}' } }],
      },
      { role: "tool", tool_call_id: "call_add", content: "5" },
      { role: "assistant", content: "Tool said: 5" },
      { role: "user", content: "tool-history next" },
    ]);
  });

  it("shows a failing tool as an output error", async () => {
    const { message } = await send(newChatId(), [
      userMessage(
        `failing-tool ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_f", name: "fail", arguments: "{}" }]) })}`,
      ),
    ]);
    const part = message?.parts.find((candidate) => candidate.type === "dynamic-tool");
    expect(part).toMatchObject({ state: "output-error", toolCallId: "call_f" });
    expect(part && "errorText" in part ? part.errorText : "").toContain("the disk is on fire");
  });

  it("reports a failing model server as one error, in words", async () => {
    const { errors, message } = await send(newChatId(), [
      userMessage(`broken ${fake({ status: 500, errorMessage: "kaboom" })}`),
    ]);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toMatch(/^The model server failed \(HTTP 500: kaboom\)/);
    // Usage is reported even so.
    expect(BrookMessageMetadata.parse(message?.metadata).usage).toMatchObject({ total_cost: 0 });
  });

  it("resumes a dropped answer from its first chunk, with one model call", async () => {
    const chatId = newChatId();
    const marker = `resume-${chatId}`;
    const dropped = new AbortController();
    const stream = await transport().sendMessages({
      chatId,
      messages: [userMessage(`${marker} ${fake({ tokens: 30, delayMs: 15 })}`)] as never,
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: dropped.signal,
    });
    const reader = stream.getReader();
    let seen = 0;
    while (seen < 5) {
      const { value } = await reader.read();
      if ((value as { type?: string } | undefined)?.type === "text-delta") seen += 1;
    }
    dropped.abort();
    await reader.cancel().catch(() => {});

    const resumed = await transport().reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    const { message, errors } = await read(resumed as ReadableStream<unknown>);
    expect(errors).toEqual([]);
    const text = message?.parts.find((part) => part.type === "text");
    expect(text && "text" in text ? text.text : "").toBe(
      Array.from({ length: 30 }, (_, index) => (index === 0 ? "tok0" : ` tok${index}`)).join(""),
    );
    expect(requestsOf(marker)).toHaveLength(1);
    // Finished a moment ago: it is still there to read again.
    const again = await read((await transport().reconnectToStream({ chatId })) as ReadableStream<unknown>);
    expect(again.message).toEqual(message);
  });

  it("has nothing to resume for a chat it does not know", async () => {
    expect(await transport().reconnectToStream({ chatId: newChatId() })).toBeNull();
  });

  it("stops a chat's answer, and its model call", async () => {
    const chatId = newChatId();
    const marker = `stop-${chatId}`;
    const stream = await transport().sendMessages({
      chatId,
      messages: [userMessage(`${marker} ${fake({ tokens: 500, delayMs: 20 })}`)] as never,
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    });
    const reading = read(stream);
    await until(() => requestsOf(marker).length === 1);
    const response = await fetch(`${brook.url}/api/chat/${chatId}/stop`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ cancelled: true });
    const { message, errors } = await reading;
    // A stopped answer is not a failure: the stream ends with `abort`, the text so far kept.
    expect(errors).toEqual([]);
    const text = message?.parts.find((part) => part.type === "text");
    expect(text && "text" in text ? text.text.length : 0).toBeLessThan(500 * 4);
    const upstream = brook.upstream.requests.find((request) => JSON.stringify(request.body.messages).includes(marker));
    expect((await upstream?.closed)?.aborted).toBe(true);
  });
});

describe("/api/chat on the wire", () => {
  const body = (text: string, id = newChatId()) => ({
    id,
    messages: [{ id: "m1", role: "user", parts: [{ type: "text", text }] }],
    trigger: "submit-message",
  });

  it("sends only the chunks and fields of the protocol, with its headers, and ends with [DONE]", async () => {
    const response = await fetch(`${brook.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        body(
          `wire ${fake({
            toolCallDeltas: toolCallDeltas([{ id: "call_w", name: "echo", arguments: '{"text":"x"}' }]),
            afterTools: { text: "Done." },
          })}`,
        ),
      ),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((text) => UIMessageChunk.parse(JSON.parse(text)));
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "start-step",
      "tool-input-available",
      "tool-output-available",
      "finish-step",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
  });

  it("refuses a body that is not useChat's with 400, in words naming the field", async () => {
    for (const [payload, field] of [
      [{ messages: [] }, "id"],
      [{ id: "c", messages: [] }, "messages"],
      [{ id: "c", messages: [{ id: "m", role: "user", parts: [{ type: "text" }] }] }, "messages.0.parts.0"],
      [
        { id: "c", messages: [{ id: "m", role: "assistant", parts: [{ type: "text", text: "hi" }] }] },
        "messages.0.role",
      ],
      [{ ...body("x"), brook: { temperature: 9 } }, "brook.temperature"],
    ] as const) {
      const response = await fetch(`${brook.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      expect(response.status, field).toBe(400);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await response.text(), field).toContain(field);
    }
  });

  it("needs an API key like every route, and keeps each key's chats apart", async () => {
    const keyed = await startHarness({ BROOK_API_KEYS: "key-a,key-b" });
    try {
      const url = `${keyed.url}/api/chat`;
      const request = (key: string | undefined, chatId: string) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify(body("hello", chatId)),
        });
      const refused = await request(undefined, "c1");
      expect(refused.status).toBe(401);
      expect(await refused.text()).toContain("API key");
      const answered = await request("key-a", "shared-chat");
      expect(answered.status).toBe(200);
      await answered.text();
      const resume = (key: string) =>
        fetch(`${url}/shared-chat/stream`, { headers: { authorization: `Bearer ${key}` } });
      expect((await resume("key-a")).status).toBe(200);
      expect((await resume("key-b")).status).toBe(204);
    } finally {
      await keyed.close();
    }
  });
});
