import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createBrookClient } from "@brook/client";
import type { ChatEvent } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { fake } from "./support/sse-text.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const stdioEntry = fileURLToPath(new URL("./support/mcp-test-server-stdio.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx/esm")).href;

let dir: string;
let brook: Harness;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brook-elicit-"));
  const file = join(dir, "mcp.json");
  await writeFile(
    file,
    JSON.stringify({
      mcpServers: {
        local: {
          command: process.execPath,
          args: ["--import", tsx, stdioEntry],
          env: { MCP_TEST_ELICITATION: "1" },
          cwd: root,
        },
      },
    }),
  );
  brook = await startHarness({ MCP_SERVERS: file });
  await untilConnected(brook.url, 30_000);
});

afterAll(async () => {
  await brook?.close();
  await rm(dir, { recursive: true, force: true });
});

const asking = (calls: number) =>
  fake({
    toolCallDeltas: toolCallDeltas(Array.from({ length: calls }, () => ({ name: "ask", arguments: "{}" }))),
  });

describe("elicitation over stdio (one stream for every call)", () => {
  it("asks through the server's only call in flight", async () => {
    const client = createBrookClient({ url: brook.url });
    const events: ChatEvent[] = [];
    for await (const event of client.streamChat(
      { message: `one ${asking(1)}` },
      { onInputRequest: () => ({ action: "accept", content: { name: "Stdio", age: 1 } }) },
    )) {
      events.push(event);
    }
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "input_request")).toMatchObject({ id: "call_0", server: "local" });
    expect(events.find((event) => event.type === "tool_result")).toMatchObject({
      result: 'accept {"name":"Stdio","age":1,"color":"green","subscribe":false}',
    });
  });

  it("declines when several calls of the server are in flight: it cannot tell whose question it is", async () => {
    const client = createBrookClient({ url: brook.url });
    const events: ChatEvent[] = [];
    for await (const event of client.streamChat({ message: `two ${asking(2)}` }, {})) events.push(event);
    expectOneTerminal(events);
    expect(events.some((event) => event.type === "input_request")).toBe(false);
    const results = events.filter((event) => event.type === "tool_result");
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.result).toMatch(/^decline\n.*cannot tell which of the calls in flight asked/);
    }
  });
});
