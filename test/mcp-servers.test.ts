import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createBrook, parseConfig } from "@brook/server";
import { describe, expect, it } from "vitest";
import { streamEvents, until } from "./support/brook-harness.js";
import { freePort } from "./support/free-port.js";
import { health, toolCallDeltas, toolEvents, toolNames, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const stdioEntry = fileURLToPath(new URL("./support/mcp-test-server-stdio.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx/esm")).href;

async function testServer(options: Parameters<typeof startMcpTestServer>[0] = {}): Promise<McpTestServer> {
  const server = await startMcpTestServer(options);
  afterThisTest(() => server.close());
  return server;
}

/** Writes an MCP_SERVERS file for this test. */
async function serversFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "brook-mcp-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "mcp.json");
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function asking(name: string, args: string, id = "call_1"): string {
  return `go ${fake({ toolCallDeltas: toolCallDeltas([{ id, name, arguments: args }]) })}`;
}

describe("MCP servers", () => {
  it("starts while a server is down, picks it up when it comes back, and again after it goes away", async () => {
    const port = await freePort();
    const { url } = await harness({ MCP_URL: `http://127.0.0.1:${port}/mcp`, MCP_RETRY_MAX_MS: "200" });

    await until(async () => (await health(url)).mcp_servers[0]?.status === "unavailable");
    const [down] = (await health(url)).mcp_servers;
    expect(down).toMatchObject({ name: "mcp", status: "unavailable", tool_count: 0 });
    expect(down?.last_error).toEqual(expect.any(String));
    expect(await toolNames(url)).toEqual([]);
    // Chat works meanwhile, without tools.
    const events = await streamEvents(url, { message: "hello while the tools are down" });
    expect(events.at(-1)?.type).toBe("complete");

    const first = await startMcpTestServer({ port });
    const [up] = await untilConnected(url);
    expect(up).toMatchObject({ status: "connected", transport: "streamable_http", tool_count: 12, last_error: null });
    expect(await toolNames(url)).toContain("echo");

    // It goes away again: the next call fails as an error result, and its tools are withdrawn.
    await first.close();
    const failed = await streamEvents(url, { message: asking("echo", '{"text":"anyone?"}') });
    expect(toolEvents(failed)[1]).toMatchObject({ name: "echo", is_error: true });
    expect(failed.at(-1)?.type).toBe("complete");
    const [gone] = (await health(url)).mcp_servers;
    expect(gone).toMatchObject({ status: "unavailable", tool_count: 0, last_error: expect.any(String) });

    const second = await testServer({ port });
    await untilConnected(url);
    const answered = await streamEvents(url, { message: asking("echo", '{"text":"welcome back"}') });
    expect(toolEvents(answered)[1]).toMatchObject({ result: "echo: welcome back", is_error: false });
    expect(second.sessionsStarted()).toBe(1);
  });

  it("prefixes the names of several servers and routes each call to its own server (HTTP and stdio)", async () => {
    const alpha = await testServer({ prefix: "A:" });
    const file = await serversFile({
      mcpServers: {
        alpha: { url: alpha.url },
        beta: {
          command: process.execPath,
          args: ["--import", tsx, stdioEntry],
          env: { MCP_TEST_PREFIX: "B:" },
          cwd: root,
        },
        off: { command: "does-not-exist", disabled: true },
      },
    });
    const { url } = await harness({ MCP_SERVERS: file });
    const statuses = await untilConnected(url, 30_000);
    expect(statuses.map((server) => [server.name, server.transport, server.tool_count])).toEqual([
      ["alpha", "streamable_http", 12],
      ["beta", "stdio", 13],
    ]);
    const names = await toolNames(url);
    expect(names).toEqual(expect.arrayContaining(["alpha__echo", "beta__echo", "beta__filler_1"]));
    expect(names).not.toContain("echo");

    const viaBeta = await streamEvents(url, { message: asking("beta__echo", '{"text":"hi"}') });
    expect(toolEvents(viaBeta)[1]).toMatchObject({ name: "beta__echo", result: "B:echo: hi", is_error: false });
    const viaAlpha = await streamEvents(url, { message: asking("alpha__add", '{"a":1,"b":2}') });
    expect(toolEvents(viaAlpha)[1]).toMatchObject({ name: "alpha__add", result: "A:3", is_error: false });
    expect(alpha.log.calls.map((call) => call.name)).toEqual(["add"]);

    // The stdio server dies during a call: an error result, then Brook starts it again.
    const crashed = await streamEvents(url, { message: asking("beta__crash", "{}") });
    expect(toolEvents(crashed)[1]).toMatchObject({ name: "beta__crash", is_error: true });
    expect(crashed.at(-1)?.type).toBe("complete");
    await until(async () => (await health(url)).mcp_servers[1]?.status !== "connected");
    await untilConnected(url, 30_000);
    const again = await streamEvents(url, { message: asking("beta__echo", '{"text":"back"}') });
    expect(toolEvents(again)[1]).toMatchObject({ result: "B:echo: back", is_error: false });
  });

  it("falls back to the legacy SSE transport when Streamable HTTP is refused", async () => {
    const legacy = await testServer({ legacySse: true });
    const { url } = await harness({ MCP_URL: legacy.url });
    const [status] = await untilConnected(url);
    expect(status).toMatchObject({ transport: "sse", tool_count: 12 });
    const events = await streamEvents(url, { message: asking("echo", '{"text":"old school"}') });
    expect(toolEvents(events)[1]).toMatchObject({ result: "echo: old school", is_error: false });
  });

  it("refuses to start with an invalid MCP_SERVERS file, naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ mcpServers: { weather: { url: "not a url" } } }, /MCP_SERVERS .*mcpServers\.weather\.url/],
      [{ mcpServers: { local: { command: "" } } }, /mcpServers\.local\.command/],
      [{ mcpServers: { odd: { port: 3 } } }, /mcpServers\.odd: needs either "url" .* or "command"/],
      [{ servers: {} }, /mcpServers/],
      ["{ not json", /MCP_SERVERS .* is not valid JSON/],
    ];
    for (const [content, message] of cases) {
      const file = await serversFile(content);
      const starting = createBrook(parseConfig({ LOG_LEVEL: "silent", MCP_SERVERS: file }));
      await expect(starting, JSON.stringify(content)).rejects.toThrow(message);
    }
    await expect(createBrook(parseConfig({ LOG_LEVEL: "silent", MCP_SERVERS: "/no/such/file.json" }))).rejects.toThrow(
      /MCP_SERVERS: cannot read \/no\/such\/file\.json/,
    );
  });
});
