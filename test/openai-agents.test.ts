/**
 * The OpenAI Agents SDK, unchanged, against Brook's `/v1`: its default model class speaks the
 * Responses API, so an agent with a function tool runs its whole loop (call, tool, answer)
 * through `/v1/responses`, streaming and not.
 */
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool } from "@openai/agents";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { toolCallDeltas } from "./support/mcp-harness.js";
import { fake } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

let brook: Harness;
const key = "sk-brook-agents";
/** The paths the agent called, in order. */
const paths: string[] = [];

beforeAll(async () => {
  brook = await startHarness({ BROOK_API_KEYS: key });
  // Traces would go to OpenAI's platform: off, as for any agent served elsewhere.
  setTracingDisabled(true);
  const recording: typeof fetch = (input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  setDefaultOpenAIClient(new OpenAI({ apiKey: key, baseURL: `${brook.url}/v1`, maxRetries: 0, fetch: recording }));
});

afterAll(async () => {
  await brook?.close();
});

function requestsOf(marker: string): Json[] {
  return brook.upstream.requests
    .map((request) => request.body)
    .filter((body: Json) => JSON.stringify(body.messages).includes(marker));
}

const cities: string[] = [];
const getWeather = tool({
  name: "get_weather",
  description: "The weather in a city.",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    cities.push(city);
    return `sunny in ${city}, 21 °C`;
  },
});

/** An agent on the SDK's default model (no model named: its Responses model, with its default settings). */
const forecaster = new Agent({
  name: "Forecaster",
  instructions: "Answer questions about the weather.",
  tools: [getWeather],
});

const ask = (marker: string) =>
  `${marker} ${fake({
    toolCallDeltas: toolCallDeltas([{ id: `call_${marker}`, name: "get_weather", arguments: '{"city":"Oslo"}' }]),
  })}`;

describe("the OpenAI Agents SDK against /v1/responses", () => {
  it("runs an agent with a function tool: Brook hands the call over, the agent runs it, Brook answers", async () => {
    paths.length = 0;
    const result = await run(forecaster, ask("agent-whole"));
    expect(result.finalOutput).toBe("Tool said: sunny in Oslo, 21 °C");
    expect(cities).toContain("Oslo");
    expect(paths).toEqual(["/v1/responses", "/v1/responses"]);
    const [first, second] = requestsOf("agent-whole");
    expect(first.messages[0]).toEqual({ role: "system", content: "Answer questions about the weather." });
    expect(first.tools.map((offered: Json) => offered.function.name)).toContain("get_weather");
    // The SDK's default settings for its default model, passed on.
    expect(first).toMatchObject({ model: expect.stringMatching(/^gpt-5/), verbosity: "low" });
    expect(second.messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_agent-whole", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_agent-whole", content: "sunny in Oslo, 21 °C" },
    ]);
    expect(result.rawResponses.map((response) => response.usage.outputTokens).every((tokens) => tokens > 0)).toBe(true);
  });

  it("streams the same run: the answer's text deltas, then the final output", async () => {
    const result = await run(forecaster, ask("agent-stream"), { stream: true });
    const deltas: string[] = [];
    for await (const event of result) {
      if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta") {
        deltas.push(event.data.delta);
      }
    }
    await result.completed;
    expect(result.error).toBeNull();
    expect(deltas.join("")).toBe("Tool said: sunny in Oslo, 21 °C");
    expect(result.finalOutput).toBe("Tool said: sunny in Oslo, 21 °C");
    expect(requestsOf("agent-stream")).toHaveLength(2);
  });
});
