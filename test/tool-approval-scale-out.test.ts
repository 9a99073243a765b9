import { createBrookClient } from "@brook/client";
import { type ChatEvent, Stats, type ToolApprovalEvent } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
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
  mcp = await startMcpTestServer();
  cluster = await startCluster(2, { MCP_URL: mcp.url, TOOL_APPROVAL: "echo" });
  [a, b] = cluster.instances as [BrookInstance, BrookInstance];
  await Promise.all([untilConnected(a.url), untilConnected(b.url)]);
});

afterAll(async () => {
  await cluster?.close();
  await mcp?.close();
});

const asking = (text: string) =>
  `use the tools ${fake({ toolCallDeltas: toolCallDeltas([{ name: "echo", arguments: JSON.stringify({ text }) }]) })}`;

/** Starts a run on `url` and reads it there until it waits for approval. */
async function waitingRun(url: string, text: string) {
  const client = createBrookClient({ url });
  const { run_id } = await client.trpc.chat.start.mutate({ message: asking(text) });
  const reading = readTracked((observer) => client.trpc.chat.events.subscribe({ run_id }, observer));
  await until(() => reading.events.some(({ event }) => event.type === "tool_approval"));
  const approval = reading.events.find(({ event }) => event.type === "tool_approval")?.event as ToolApprovalEvent;
  return { runId: run_id, approval, reading };
}

describe("tool approval across instances sharing a real redis-server", () => {
  it("takes an approval sent to the other instance, and refuses a second one there with 409", async () => {
    const { runId, approval, reading } = await waitingRun(a.url, "from b");
    const answered = await fetch(`${b.url}/runs/${runId}/approvals/${approval.approval_id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ approved: true }),
    });
    expect(answered.status).toBe(200);
    const again = await createBrookClient({ url: b.url })
      .deny(runId, approval.approval_id)
      .catch((error: unknown) => error);
    expect(again).toBeInstanceOf(TRPCClientError);
    expect((again as TRPCClientError<never>).data).toMatchObject({ httpStatus: 409, brook_code: "already_answered" });
    const events = (await reading.done).map(({ event }) => event);
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "tool_result")).toMatchObject({
      result: "echo: from b",
      approval: "approved",
    });
    // An unknown approval of a run produced elsewhere is unknown there too.
    expect(
      (
        await fetch(`${b.url}/runs/${runId}/approvals/nope`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ approved: true }),
        })
      ).status,
    ).toBe(409);
  });

  it("shows the pending approval to a reader on the other instance, who denies it there", async () => {
    const { runId, approval, reading } = await waitingRun(a.url, "deny from b");
    const elsewhere = readTracked((observer) =>
      createBrookClient({ url: b.url }).trpc.chat.events.subscribe({ run_id: runId }, observer),
    );
    await until(() => elsewhere.events.some(({ event }) => event.type === "tool_approval"));
    expect(elsewhere.events.find(({ event }) => event.type === "tool_approval")?.event).toEqual(approval);
    // A run waiting for a person keeps going without readers: both leave, the answer still lands.
    reading.unsubscribe();
    const unknownInput = await createBrookClient({ url: b.url })
      .approve(runId, "not-asked")
      .catch((error: unknown) => error);
    expect((unknownInput as TRPCClientError<never>).data).toMatchObject({ httpStatus: 404 });
    await createBrookClient({ url: b.url }).deny(runId, approval.approval_id, "no thanks");
    const events: ChatEvent[] = (await elsewhere.done).map(({ event }) => event);
    expectOneTerminal(events);
    const result = events.find((event) => event.type === "tool_result");
    expect(result).toMatchObject({ is_error: true, approval: "denied" });
    expect(result?.type === "tool_result" && result.result).toContain("no thanks");
    const stats = Stats.parse(await (await fetch(`${b.url}/stats`)).json());
    // Both instances count in the shared statistics: the approval of the first test, this denial.
    expect(stats.approvals).toEqual({ requested: 2, approved: 1, denied: 1, timed_out: 0 });
  });
});
