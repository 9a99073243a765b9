/** LangChain's `ChatOpenAI` pointed at Brook's `/v1`, unchanged. */
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

let mcp: McpTestServer;
let brook: Harness;

beforeAll(async () => {
  mcp = await startMcpTestServer();
  brook = await startHarness({ MCP_URL: mcp.url });
  await untilConnected(brook.url);
});

afterAll(async () => {
  await brook?.close();
  await mcp?.close();
});

function chatModel(options: ConstructorParameters<typeof ChatOpenAI>[0] = {}) {
  return new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "not-needed",
    maxRetries: 0,
    configuration: { baseURL: `${brook.url}/v1` },
    ...options,
  });
}

describe("LangChain's ChatOpenAI against /v1", () => {
  it("invoke: one answer, with token usage", async () => {
    const answer = await chatModel().invoke(`lc-invoke ${fake({ text: "Spring wind brushes the face." })}`);
    expect(answer.content).toBe("Spring wind brushes the face.");
    expect(answer.usage_metadata).toMatchObject({ output_tokens: 5 });
  });

  it("stream: the text piece by piece, usage with streamUsage", async () => {
    const pieces: string[] = [];
    let usage: unknown;
    for await (const chunk of await chatModel({ streamUsage: true }).stream(
      `lc-stream ${fake({ chunks: ["one ", "two ", "three"] })}`,
    )) {
      if (typeof chunk.content === "string" && chunk.content !== "") pieces.push(chunk.content);
      usage ??= chunk.usage_metadata;
    }
    expect(pieces).toEqual(["one ", "two ", "three"]);
    expect(usage).toMatchObject({ output_tokens: 3 });
  });

  it("Brook's MCP tools run inside; the caller's bound tools come back as tool calls", async () => {
    const inside = await chatModel().invoke(
      `lc-mcp ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_e", name: "echo", arguments: '{"text":"hi"}' }]) })}`,
    );
    expect(inside.content).toBe("Tool said: echo: hi");
    expect(inside.tool_calls).toEqual([]);

    const weather = tool(async ({ city }) => `sunny in ${city}`, {
      name: "get_weather",
      description: "The weather in a city.",
      schema: z.object({ city: z.string() }),
    });
    const answer = await chatModel()
      .bindTools([weather])
      .invoke(
        `lc-tools ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_w", name: "get_weather", arguments: '{"city":"Oslo"}' }]) })}`,
      );
    expect(answer.tool_calls).toEqual([
      expect.objectContaining({ id: "call_w", name: "get_weather", args: { city: "Oslo" } }),
    ]);
  });
});
