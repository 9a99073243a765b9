import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnBrookCli, spawnBrookCliOnTerminal } from "./support/brook-cli.js";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";

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

const asking = (text: string) =>
  `use ${fake({ toolCallDeltas: toolCallDeltas([{ name: "echo", arguments: JSON.stringify({ text }) }]) })}`;

const echoed = (text: string) => mcp.log.calls.some((call) => call.name === "echo" && call.args.text === text);

describe("brook chat and tools that need approval", { timeout: 60_000 }, () => {
  it("denies without a terminal and says so; --approve-all and --deny-all answer for scripts", async () => {
    const piped = spawnBrookCli(["chat", "--url", brook.url, asking("piped")]);
    expect((await piped.exited).code).toBe(0);
    expect(piped.stderr()).toContain("denied: no terminal to ask on");
    expect(piped.stdout()).toContain("no terminal to ask on");
    expect(echoed("piped")).toBe(false);

    const approved = spawnBrookCli(["chat", "--url", brook.url, "--approve-all", asking("approved")]);
    expect((await approved.exited).code).toBe(0);
    expect(approved.stderr()).toContain("approved (--approve-all)");
    expect(approved.stdout()).toContain("Tool said: echo: approved");
    expect(echoed("approved")).toBe(true);

    const denied = spawnBrookCli(["chat", "--url", brook.url, "--deny-all", asking("denied")]);
    expect((await denied.exited).code).toBe(0);
    expect(denied.stderr()).toContain("denied (--deny-all)");
    expect(echoed("denied")).toBe(false);

    const both = spawnBrookCli(["chat", "--url", brook.url, "--approve-all", "--deny-all", "hi"]);
    expect((await both.exited).code).toBe(2);
    expect(both.stderr()).toContain("cannot go together");
  });

  it("asks y/N on a terminal and runs the tool once the person types y", async () => {
    const terminal = spawnBrookCliOnTerminal(["chat", "--url", brook.url, asking("on a terminal")]);
    await until(() => terminal.output().includes("Approve? [y/N]"), 20_000);
    expect(echoed("on a terminal")).toBe(false);
    terminal.type("y");
    expect(await terminal.exited).toBe(0);
    expect(echoed("on a terminal")).toBe(true);
    expect(terminal.output()).toContain("Tool said: echo: on a terminal");
  });
});
