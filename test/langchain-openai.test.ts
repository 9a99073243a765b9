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

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

/** What the model server received for the request whose messages contain `marker`. */
function upstreamBody(marker: string): Json {
  const bodies = brook.upstream.requests.map((request) => request.body);
  return bodies.find((body: Json) => JSON.stringify(body.messages).includes(marker));
}

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

  it("passes stop, topP, the penalties and seed on to the model", async () => {
    const model = chatModel({ topP: 0.8, presencePenalty: 0.5, frequencyPenalty: 0.25 });
    const answer = await model.invoke(`lc-sampling ${fake({ text: "Up to here." })}`, { stop: ["END"], seed: 3 });
    expect(answer.content).toBe("Up to here.");
    expect(upstreamBody("lc-sampling")).toMatchObject({
      stop: ["END"],
      top_p: 0.8,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      seed: 3,
    });

    const pieces: string[] = [];
    for await (const chunk of await chatModel({ topP: 0.5 }).stream(`lc-stop-stream ${fake({ text: "a b" })}`, {
      stop: ["\n"],
    })) {
      if (typeof chunk.content === "string") pieces.push(chunk.content);
    }
    expect(pieces.join("")).toBe("a b");
    expect(upstreamBody("lc-stop-stream")).toMatchObject({ stop: ["\n"], top_p: 0.5 });
  });

  it("withStructuredOutput (function calling): the caller's schema as a forced tool, the answer parsed", async () => {
    const person = z.object({ name: z.string(), age: z.number() }).describe("A person mentioned in the text.");
    const extract = chatModel().withStructuredOutput(person, { name: "person", method: "functionCalling" });
    const found = await extract.invoke(
      `lc-structured Ada is 36. ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_p", name: "person", arguments: '{"name":"Ada","age":36}' }]) })}`,
    );
    expect(found).toEqual({ name: "Ada", age: 36 });
    const body = upstreamBody("lc-structured");
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "person" } });
    expect(body.tools).toContainEqual(
      expect.objectContaining({
        function: expect.objectContaining({
          name: "person",
          parameters: expect.objectContaining({ required: ["name", "age"] }),
        }),
      }),
    );
  });
});
