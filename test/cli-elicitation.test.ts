import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnBrookCli, spawnBrookCliOnTerminal } from "./support/brook-cli.js";
import { type Harness, startHarness, until } from "./support/brook-harness.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
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

const asking = (marker: string) =>
  `${marker} ${fake({ toolCallDeltas: toolCallDeltas([{ name: "ask", arguments: "{}" }]) })}`;

describe("brook chat and an MCP server's question", { timeout: 60_000 }, () => {
  it("declines without a terminal and says so", async () => {
    const piped = spawnBrookCli(["chat", "--url", brook.url, asking("piped")]);
    expect((await piped.exited).code).toBe(0);
    expect(piped.stderr()).toContain("Who are you?");
    expect(piped.stderr()).toContain("declined: no terminal to ask on");
    expect(piped.stdout()).toContain("Tool said: decline");
  });

  it("asks each field on a terminal, re-asks what does not fit, and the tool gets the content with its defaults", async () => {
    const terminal = spawnBrookCliOnTerminal(["chat", "--url", brook.url, asking("on a terminal")]);
    // Each prompt is looked for in what came after the last answer typed.
    let from = 0;
    const answerAfter = async (prompt: string, typed: string) => {
      await until(() => terminal.output().slice(from).includes(prompt), 20_000);
      from = terminal.output().length;
      terminal.type(typed);
    };
    await answerAfter("[c]ancel", "y");
    await answerAfter("Your name", "Ada");
    await answerAfter("Age", "old");
    await answerAfter("whole number, please", "36");
    await answerAfter("Favourite colour", "");
    await answerAfter("Subscribe", "y");
    expect(await terminal.exited).toBe(0);
    expect(terminal.output()).toContain('Tool said: accept {"name":"Ada","age":36,"subscribe":true,"color":"green"}');
  });
});
