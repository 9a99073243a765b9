/**
 * An MCP server's question through the AI SDK's own chat (`ai` 7's AbstractChat, what useChat
 * wraps), unchanged: the question arrives as a `data-input-request` part while the response stays
 * open, and the answer goes to the REST route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { NodeChat } from "./support/node-chat.js";
import { fake } from "./support/sse-text.js";

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer({ elicitation: true });
  brook = await startHarness({ MCP_URL: mcp.url });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

interface InputRequestData {
  run_id: string;
  tool_call_id: string;
  name: string;
  server: string;
  message: string;
  requested_schema: Record<string, unknown>;
}

const inputParts = (chat: NodeChat) =>
  (chat.chatState.messages.at(-1)?.parts ?? []).flatMap((part) =>
    part.type === "data-input-request" ? [part as { id: string; data: InputRequestData }] : [],
  );

describe("elicitation with ai 7's chat against /api/chat", () => {
  it("shows the question as a data-input-request part; answered over REST, the same response goes on to the answer", async () => {
    const errors: Error[] = [];
    const chat = new NodeChat(brook.url, `elicit-${process.pid}`, errors);
    const sent = chat.sendMessage({
      text: `ai-sdk ${fake({ toolCallDeltas: toolCallDeltas([{ name: "ask", arguments: "{}" }]) })}`,
    });
    await until(() => inputParts(chat).length === 1);
    const [part] = inputParts(chat) as [{ id: string; data: InputRequestData }];
    expect(part.data).toMatchObject({ tool_call_id: "call_0", name: "ask", server: "mcp", message: "Who are you?" });
    expect(chat.status).toBe("streaming");
    const answered = await fetch(`${brook.url}/runs/${part.data.run_id}/inputs/${part.id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "accept", content: { name: "Lin", age: 30 } }),
    });
    expect(answered.status).toBe(200);
    await sent;
    expect(errors).toEqual([]);
    const message = chat.chatState.messages.at(-1);
    const tool = message?.parts.find((each) => each.type === "dynamic-tool");
    const expected = 'accept {"name":"Lin","age":30,"color":"green","subscribe":false}';
    expect(tool).toMatchObject({ state: "output-available", output: expected });
    const text = message?.parts.flatMap((each) => (each.type === "text" ? [each.text] : [])).join("");
    expect(text).toBe(`Tool said: ${expected}`);
    // The question stays in the message: a reload shows what was asked.
    expect(inputParts(chat)).toHaveLength(1);
  });
});
