import { createBrookClient } from "@brook/client";
import { type ChatEvent, ErrorBody, type InputRequestEvent } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrookCluster, type BrookInstance, startCluster } from "./support/brook-cluster.js";
import { until } from "./support/brook-harness.js";
import { expectOneTerminal, toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { fake } from "./support/sse-text.js";
import { readTracked } from "./support/trpc-reader.js";

let mcp: McpTestServer;
let cluster: BrookCluster;
let a: BrookInstance;
let b: BrookInstance;

beforeAll(async () => {
  mcp = await startMcpTestServer({ elicitation: true });
  cluster = await startCluster(2, { MCP_URL: mcp.url });
  [a, b] = cluster.instances as [BrookInstance, BrookInstance];
  await Promise.all([untilConnected(a.url), untilConnected(b.url)]);
});

afterAll(async () => {
  await cluster?.close();
  await mcp?.close();
});

const asking = (marker: string) =>
  `${marker} ${fake({ toolCallDeltas: toolCallDeltas([{ name: "ask", arguments: "{}" }]) })}`;

const answer = (url: string, runId: string, inputId: string, body: unknown) =>
  fetch(`${url}/runs/${runId}/inputs/${inputId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("elicitation across instances sharing a real redis-server", () => {
  it("shows the pending input_request to a reader on the other instance, refuses content that does not fit there with 400, and takes the answer there", async () => {
    const client = createBrookClient({ url: a.url });
    const { run_id: runId } = await client.trpc.chat.start.mutate({ message: asking("across") });
    const reading = readTracked((observer) => client.trpc.chat.events.subscribe({ run_id: runId }, observer));
    await until(() => reading.events.some(({ event }) => event.type === "input_request"));
    const input = reading.events.find(({ event }) => event.type === "input_request")?.event as InputRequestEvent;

    // A reader resuming on the other instance sees the question still waiting.
    const elsewhere = readTracked((observer) =>
      createBrookClient({ url: b.url }).trpc.chat.events.subscribe({ run_id: runId }, observer),
    );
    await until(() => elsewhere.events.some(({ event }) => event.type === "input_request"));
    expect(elsewhere.events.find(({ event }) => event.type === "input_request")?.event).toEqual(input);
    reading.unsubscribe();

    const refused = await answer(b.url, runId, input.input_id, { action: "accept", content: { name: "Ada" } });
    expect(refused.status).toBe(400);
    const body = ErrorBody.parse(await refused.json());
    expect(body.error).toContain("content.age");
    const ok = await answer(b.url, runId, input.input_id, { action: "accept", content: { name: "Ada", age: 7 } });
    expect(ok.status).toBe(200);
    const again = await answer(b.url, runId, input.input_id, { action: "decline" });
    expect(again.status).toBe(409);

    const events: ChatEvent[] = (await elsewhere.done).map(({ event }) => event);
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "tool_result")).toMatchObject({
      result: 'accept {"name":"Ada","age":7,"color":"green","subscribe":false}',
    });
  });
});
