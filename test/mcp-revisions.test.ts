import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ChatEvent, readChatEvents, ToolList } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { streamEvents } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, toolEvents, untilConnected } from "./support/mcp-harness.js";
import { startModernMcpServer } from "./support/mcp-modern-server.js";
import { startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx/esm")).href;

/** An `mcpServers` entry that runs a test server script over stdio. */
function stdio(script: string) {
  return {
    command: process.execPath,
    args: ["--import", tsx, fileURLToPath(new URL(`./support/${script}`, import.meta.url))],
    cwd: root,
  };
}

async function serversFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "brook-mcp-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "mcp.json");
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe("MCP protocol revisions", () => {
  it("works with a 2026-07-28 server and a 2025-11-25 server side by side, and shows each one's revision", async () => {
    const modern = await startModernMcpServer();
    afterThisTest(() => modern.close());
    const classic = await startMcpTestServer();
    afterThisTest(() => classic.close());
    const { url } = await harness({
      MCP_SERVERS: await serversFile({ mcpServers: { modern: { url: modern.url }, classic: { url: classic.url } } }),
    });

    const statuses = await untilConnected(url);
    expect(statuses.map((server) => [server.name, server.transport, server.protocol_version])).toEqual([
      ["modern", "streamable_http", "2026-07-28"],
      ["classic", "streamable_http", "2025-11-25"],
    ]);
    const tools = ToolList.parse(await (await fetch(`${url}/tools`)).json()).tools;
    expect(tools.find((tool) => tool.name === "modern__forecast")).toMatchObject({
      server: "modern",
      server_tool: "forecast",
      protocol_version: "2026-07-28",
    });
    expect(tools.find((tool) => tool.name === "classic__echo")).toMatchObject({ protocol_version: "2025-11-25" });

    // The model calls one tool of each server in the same turn; both results reach the client.
    const calls = [
      { id: "call_modern", name: "modern__forecast", arguments: '{"city":"Lyon"}' },
      { id: "call_classic", name: "classic__echo", arguments: '{"text":"hello"}' },
    ];
    const events = await streamEvents(url, { message: `weather? ${fake({ toolCallDeltas: toolCallDeltas(calls) })}` });
    expectOneTerminal(events);
    expect(events.at(-1)?.type).toBe("complete");
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: "modern__forecast",
          is_error: false,
          result: expect.stringContaining("Lyon: 21 °C, sunny"),
          structured_content: { city: "Lyon", celsius: 21 },
          resources: [expect.objectContaining({ uri: "https://weather.example/Lyon", name: "Lyon" })],
        }),
        expect.objectContaining({ name: "classic__echo", is_error: false, result: "echo: hello" }),
      ]),
    );
    expect(modern.calls).toEqual([{ city: "Lyon" }]);
    // Every request to the 2026-07-28 server said so; none was a 2025-era one.
    expect(modern.revisions.length).toBeGreaterThan(0);
    expect(new Set(modern.revisions)).toEqual(new Set(["2026-07-28"]));
  });

  it("pauses for a 2026-07-28 server's question during a call (input_required) until a person answers, and relays its progress", async () => {
    const modern = await startModernMcpServer();
    afterThisTest(() => modern.close());
    const { url } = await harness({ MCP_URL: modern.url });
    const [status] = await untilConnected(url);
    expect(status?.protocol_version).toBe("2026-07-28");

    const calls = [{ id: "call_deploy", name: "deploy", arguments: '{"env":"prod"}' }];
    const events: ChatEvent[] = [];
    const response = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `ship it ${fake({ toolCallDeltas: toolCallDeltas(calls) })}` }),
    });
    if (response.body === null) throw new Error(`no body (${response.status})`);
    for await (const { event } of readChatEvents(response.body)) {
      events.push(event);
      if (event.type !== "input_request") continue;
      expect(event).toMatchObject({ name: "deploy", server: "mcp", message: "Deploy to prod?" });
      const start = events.find((one) => one.type === "start");
      const runId = start?.type === "start" ? start.run_id : "";
      const answered = await fetch(`${url}/runs/${runId}/inputs/${event.input_id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "accept", content: { confirm: true } }),
      });
      expect(answered.status).toBe(200);
    }
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "tool_progress")).toMatchObject({
      progress: 1,
      total: 2,
      message: "checking",
    });
    const result = toolEvents(events).find((event) => event.type === "tool_result");
    // The server asked again with the person's answer (a 2026-07-28 retry carrying inputResponses).
    expect(result?.type === "tool_result" ? result.result : "").toContain("the user answered accept");
  });

  it("over stdio too: asks each server on its own pipe (one process per connection)", async () => {
    const { url } = await harness({
      MCP_SERVERS: await serversFile({
        mcpServers: {
          modern: stdio("mcp-modern-server-stdio.ts"),
          classic: stdio("mcp-test-server-stdio.ts"),
        },
      }),
      MCP_RETRY_MAX_MS: "200",
    });
    const statuses = await untilConnected(url, 60_000);
    expect(statuses.map((server) => [server.name, server.transport, server.protocol_version])).toEqual([
      ["modern", "stdio", "2026-07-28"],
      ["classic", "stdio", "2025-11-25"],
    ]);
    const calls = [
      { id: "call_modern", name: "modern__shout", arguments: '{"text":"hi"}' },
      { id: "call_classic", name: "classic__echo", arguments: '{"text":"there"}' },
    ];
    const events = await streamEvents(url, { message: `go ${fake({ toolCallDeltas: toolCallDeltas(calls) })}` });
    expectOneTerminal(events);
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "modern__shout", is_error: false, result: "HI" }),
        expect.objectContaining({ name: "classic__echo", is_error: false, result: "echo: there" }),
      ]),
    );
  }, 90_000);
});
