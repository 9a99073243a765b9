/**
 * Tool approval through the AI SDK's own chat (`ai` 7's AbstractChat, what useChat wraps), unchanged:
 * `addToolApprovalResponse` and `sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses`.
 */
import { lastAssistantMessageIsCompleteWithApprovalResponses, type UIMessage } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { NodeChat } from "./support/node-chat.js";
import { fake } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url, TOOL_APPROVAL: "echo" });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

type ToolPart = Extract<UIMessage["parts"][number], { type: "dynamic-tool" }>;
const toolParts = (chat: NodeChat) =>
  (chat.chatState.messages.at(-1)?.parts ?? []).filter((part): part is ToolPart => part.type === "dynamic-tool");

describe("tool approval with ai 7's chat against /api/chat", () => {
  it("asks, then goes on in the same run once the person answers: one approved call runs, one denied never does", async () => {
    const errors: Error[] = [];
    const chat = new NodeChat(brook.url, `approval-${process.pid}`, errors, {
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    });
    const calls = mcp.log.calls.length;
    const deltas = toolCallDeltas([
      { name: "echo", arguments: '{"text":"yes"}' },
      { name: "echo", arguments: '{"text":"no"}' },
    ]);
    await chat.sendMessage({ text: `ai-approve ${fake({ toolCallDeltas: deltas })}` });
    expect(errors).toEqual([]);
    expect(chat.status).toBe("ready");
    const asked = toolParts(chat);
    expect(asked.map((part) => part.state)).toEqual(["approval-requested", "approval-requested"]);
    expect(mcp.log.calls.length).toBe(calls);
    const runId = chat.chatState.messages.at(-1)?.id;

    const [first, second] = asked as [ToolPart, ToolPart];
    const approvalOf = (part: ToolPart) => (part as { approval?: { id: string } }).approval?.id as string;
    await chat.addToolApprovalResponse({ id: approvalOf(first), approved: true });
    // One of two answered: nothing is sent yet.
    expect(
      brook.upstream.requests.filter((request) => JSON.stringify(request.body).includes("ai-approve")),
    ).toHaveLength(1);
    await chat.addToolApprovalResponse({ id: approvalOf(second), approved: false, reason: "not that one" });
    await until(
      () =>
        chat.status === "ready" && chat.chatState.messages.at(-1)?.parts.some((part) => part.type === "text") === true,
    );
    expect(errors).toEqual([]);

    const message = chat.chatState.messages.at(-1) as UIMessage;
    // The same message, the same run: no second model call for what had happened.
    expect(message.id).toBe(runId);
    expect(chat.chatState.messages.filter((entry) => entry.role === "assistant")).toHaveLength(1);
    expect(toolParts(chat).map((part) => part.state)).toEqual(["output-available", "output-denied"]);
    expect(toolParts(chat)[0]).toMatchObject({ output: "echo: yes" });
    expect(mcp.log.calls.slice(calls).map((call) => call.args)).toEqual([{ text: "yes" }]);
    const text = message.parts.filter((part) => part.type === "text").map((part) => (part as { text: string }).text);
    expect(text.join("")).toContain("Tool said: echo: yes");
    expect(text.join("")).toContain("not that one");
    const requests = brook.upstream.requests.map((request) => request.body as Json);
    expect(requests.filter((body) => JSON.stringify(body.messages).includes("ai-approve"))).toHaveLength(2);
  });
});
