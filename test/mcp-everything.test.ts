import { DefaultChatTransport } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentOf, startDemoBrook, startHarness, streamEvents } from "./support/brook-harness.js";
import { type EverythingServer, startEverythingServer } from "./support/mcp-everything.js";
import { health, shapeOf, toolCallDeltas, toolEvents, toolNames, untilConnected } from "./support/mcp-harness.js";
import { fake } from "./support/sse-text.js";

// biome-ignore lint/suspicious/noExplicitAny: the fake upstream's recorded JSON bodies
type Json = any;

// The reference server of the MCP project, as a user would point Brook at it with MCP_URL.
let everything: EverythingServer;

beforeAll(async () => {
  everything = await startEverythingServer();
}, 30_000);

afterAll(() => everything?.close());

describe("with @modelcontextprotocol/server-everything", () => {
  it("lists its tools, calls them and streams the results", async () => {
    const brook = await startHarness({ MCP_URL: everything.url, TOOL_TIMEOUT_MS: "1000" });
    try {
      const [status] = await untilConnected(brook.url);
      expect(status).toMatchObject({ name: "mcp", transport: "streamable_http", last_error: null });
      const names = await toolNames(brook.url);
      expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation"]));
      // It offers a tool that needs task execution; Brook cannot call it, so it is not offered.
      expect(names).not.toContain("simulate-research-query");

      const calls = [
        { id: "call_echo", name: "echo", arguments: '{"message":"hello MCP"}' },
        { id: "call_sum", name: "get-sum", arguments: '{"a":2,"b":3}' },
      ];
      const events = await streamEvents(brook.url, {
        message: `two tools ${fake({ toolCallDeltas: toolCallDeltas(calls) })}`,
      });
      expect(shapeOf(events)).toEqual(
        ["start", "tool_call", "tool_result", "content", "complete"].flatMap((type) =>
          type === "tool_call" || type === "tool_result" ? [type, type] : [type],
        ),
      );
      const results = new Map(
        toolEvents(events).flatMap((event) => (event.type === "tool_result" ? [[event.id, event]] : [])),
      );
      expect(results.get("call_echo")).toMatchObject({ result: "Echo: hello MCP", is_error: false });
      expect(results.get("call_sum")?.result).toContain("5");
      expect(contentOf(events)).toContain("Echo: hello MCP");

      // Its long-running operation outlasts the timeout: an error result, and the run goes on.
      const slow = await streamEvents(brook.url, {
        message: fake({
          toolCallDeltas: toolCallDeltas([
            { id: "call_long", name: "trigger-long-running-operation", arguments: '{"duration":30,"steps":3}' },
          ]),
        }),
      });
      expect(toolEvents(slow)[1]).toMatchObject({ id: "call_long", is_error: true });
      expect(slow.at(-1)?.type).toBe("complete");
    } finally {
      await brook.close();
    }
  });

  it("keeps structured content, resource links and images in tool_result, streams progress, and declines a question nobody answers", async () => {
    const brook = await startHarness({ MCP_URL: everything.url, TOOL_TIMEOUT_MS: "10000", INPUT_TIMEOUT_MS: "100" });
    try {
      const [status] = await untilConnected(brook.url);
      expect(status?.protocol_version).toBe("2025-11-25");
      const calls = [
        { id: "call_weather", name: "get-structured-content", arguments: '{"location":"Chicago"}' },
        { id: "call_links", name: "get-resource-links", arguments: '{"count":2}' },
        { id: "call_image", name: "get-tiny-image", arguments: "{}" },
        { id: "call_long", name: "trigger-long-running-operation", arguments: '{"duration":1,"steps":2}' },
        { id: "call_ask", name: "trigger-elicitation-request", arguments: "{}" },
      ];
      const events = await streamEvents(brook.url, {
        message: `rich ${fake({ toolCallDeltas: toolCallDeltas(calls) })}`,
      });
      const results = new Map(
        toolEvents(events).flatMap((event) => (event.type === "tool_result" ? [[event.id, event]] : [])),
      );
      expect(results.get("call_weather")?.structured_content).toMatchObject({ conditions: expect.any(String) });
      expect(results.get("call_links")?.resources).toHaveLength(2);
      expect(results.get("call_links")?.resources?.[0]).toMatchObject({ uri: expect.stringMatching(/^demo:\/\//) });
      const image = results.get("call_image");
      expect(image?.images?.[0]).toMatchObject({ mime_type: "image/png", data: expect.any(String) });
      // The model reads a description of the image, not its base64.
      expect(image?.result).toMatch(/\[image image\/png, \d+ (B|KB): shown to the user\]/);
      expect(events.some((event) => event.type === "input_request" && event.id === "call_ask")).toBe(true);
      expect(results.get("call_ask")?.result).toMatch(/nobody answered within 100 ms, so Brook declined/);

      const progress = events.filter((event) => event.type === "tool_progress");
      expect(progress).toEqual([
        { type: "tool_progress", id: "call_long", name: "trigger-long-running-operation", progress: 1, total: 2 },
        { type: "tool_progress", id: "call_long", name: "trigger-long-running-operation", progress: 2, total: 2 },
      ]);
      // Progress comes between the call and its result.
      const at = (predicate: (event: (typeof events)[number]) => boolean) => events.findIndex(predicate);
      expect(at((event) => event.type === "tool_progress")).toBeLessThan(
        at((event) => event.type === "tool_result" && event.id === "call_long"),
      );
      expect(events.at(-1)?.type).toBe("complete");

      // useChat's transport (the AI SDK's own chunk schema) takes the progress as transient data parts.
      const long = calls.filter((call) => call.id === "call_long");
      const stream = await new DefaultChatTransport({ api: `${brook.url}/api/chat` }).sendMessages({
        chatId: "rich-progress",
        messages: [
          { id: "u1", role: "user", parts: [{ type: "text", text: fake({ toolCallDeltas: toolCallDeltas(long) }) }] },
        ],
        trigger: "submit-message",
        messageId: undefined,
        abortSignal: undefined,
      });
      const chunks: { type: string; transient?: boolean }[] = [];
      for await (const chunk of stream) chunks.push(chunk as { type: string; transient?: boolean });
      expect(chunks.filter((chunk) => chunk.type === "data-tool-progress")).toHaveLength(2);
      expect(chunks.find((chunk) => chunk.type === "data-tool-progress")).toMatchObject({
        id: "call_long",
        data: { name: "trigger-long-running-operation", progress: 1, total: 2 },
        transient: true,
      });
      expect(chunks.at(-1)?.type).toBe("finish");
    } finally {
      await brook.close();
    }
  });

  it("gives the model a tool's image as an image part after the tool message, within MAX_ATTACHMENTS", async () => {
    const call = [{ id: "call_image", name: "get-tiny-image", arguments: "{}" }];
    const brook = await startHarness({ MCP_URL: everything.url, TOOL_TIMEOUT_MS: "10000" });
    try {
      await untilConnected(brook.url);
      const events = await streamEvents(brook.url, {
        message: `picture ${fake({ toolCallDeltas: toolCallDeltas(call) })}`,
      });
      expect(events.at(-1)?.type).toBe("complete");
      const image = toolEvents(events).find((event) => event.type === "tool_result")?.images?.[0];
      expect(image?.mime_type).toBe("image/png");
      const second = (brook.upstream.requests[1]?.body.messages ?? []) as Json[];
      // OpenAI's format takes images in user messages only: the tool message keeps the text, a
      // user message after it carries the image, labelled as that call's output.
      expect(second.at(-2)).toMatchObject({ role: "tool", tool_call_id: "call_image" });
      expect(second.at(-1)).toEqual({
        role: "user",
        content: [
          { type: "text", text: 'The tool "get-tiny-image" (call call_image) returned this image:' },
          { type: "image_url", image_url: { url: `data:image/png;base64,${image?.data}` } },
        ],
      });
    } finally {
      await brook.close();
    }

    const limited = await startHarness({ MCP_URL: everything.url, TOOL_TIMEOUT_MS: "10000", MAX_ATTACHMENTS: "0" });
    try {
      await untilConnected(limited.url);
      const events = await streamEvents(limited.url, {
        message: `capped ${fake({ toolCallDeltas: toolCallDeltas(call) })}`,
      });
      expect(events.at(-1)?.type).toBe("complete");
      const last = (limited.upstream.requests[1]?.body.messages as Json[] | undefined)?.at(-1);
      expect(last.role).toBe("user");
      expect(JSON.stringify(last.content)).not.toContain("image_url");
      expect(last.content[1].text).toMatch(/^\[image image\/png not shown: .*MAX_ATTACHMENTS\)\]$/);
    } finally {
      await limited.close();
    }
  });

  it("lets demo mode call a tool the message names, then answer with its result", async () => {
    const demo = await startDemoBrook({ MCP_URL: everything.url });
    try {
      await untilConnected(demo.url);
      expect((await health(demo.url)).mode).toBe("demo");
      const events = await streamEvents(demo.url, { message: "Please use get-sum to add 20 and 22" });
      const [call, result] = toolEvents(events);
      expect(call).toMatchObject({ type: "tool_call", name: "get-sum" });
      expect(JSON.parse(call?.type === "tool_call" ? call.arguments : "{}")).toEqual({ a: 20, b: 22 });
      expect(result).toMatchObject({ type: "tool_result", name: "get-sum", is_error: false });
      expect(contentOf(events)).toContain("42");
      expect(events.at(-1)).toMatchObject({ type: "complete", finish_reason: "stop" });

      // A message that names no tool gets the usual demo answer.
      const plain = await streamEvents(demo.url, { message: "hello there" });
      expect(toolEvents(plain)).toEqual([]);
    } finally {
      await demo.close();
    }
  });
});
