/** Demo mode with no MCP server: the pretend tool that needs approval, so the flow can be tried offline. */
import { type ToolApprovalEvent, ToolList } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnBrookCli } from "./support/brook-cli.js";
import { contentOf, openChatStream, startDemoBrook, until } from "./support/brook-harness.js";
import { expectOneTerminal } from "./support/mcp-harness.js";

let demo: Awaited<ReturnType<typeof startDemoBrook>>;

beforeAll(async () => {
  demo = await startDemoBrook();
});

afterAll(async () => {
  await demo?.close();
});

// The prompt the docs give newcomers.
const prompt = "Use demo_delete_file on notes.txt";

/** A `POST /chat/stream` read as it goes: its events so far, and its end. */
function openStream(body: unknown) {
  const stream = openChatStream(demo.url, body);
  return { ...stream, approval: () => stream.ofType("tool_approval")[0] };
}

async function answer(runId: string, approvalId: string, body: unknown): Promise<number> {
  const response = await fetch(`${demo.url}/runs/${runId}/approvals/${approvalId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.status;
}

describe("demo mode's tool approval (no model server, no MCP server)", () => {
  it("lists the demo tool as needing approval", async () => {
    const list = ToolList.parse(await (await fetch(`${demo.url}/tools`)).json());
    expect(list.tools).toMatchObject([{ name: "demo_delete_file", server: "demo", needs_approval: true }]);
  });

  it("asks before the demo tool runs; approved, it runs and the answer uses its result", async () => {
    const stream = openStream({ message: prompt });
    await until(() => stream.approval() !== undefined);
    const approval = stream.approval() as ToolApprovalEvent;
    expect(approval).toMatchObject({ name: "demo_delete_file", server: "demo", arguments: '{"path":"notes.txt"}' });
    expect(await answer(stream.runId(), approval.approval_id, { approved: true })).toBe(200);

    const events = await stream.done;
    expectOneTerminal(events);
    const result = events.find((event) => event.type === "tool_result");
    expect(result).toMatchObject({ id: approval.id, is_error: false, approval: "approved" });
    expect(result?.type === "tool_result" && result.result).toContain('"notes.txt" would be gone now');
    const complete = events.at(-1);
    expect(complete?.type === "complete" && complete.full_content).toContain("Demo: nothing was deleted.");
  });

  it("denied, the demo tool never runs and the answer carries the denial and its reason", async () => {
    const stream = openStream({ message: prompt });
    await until(() => stream.approval() !== undefined);
    const approval = stream.approval() as ToolApprovalEvent;
    expect(await answer(stream.runId(), approval.approval_id, { approved: false, reason: "keep my notes" })).toBe(200);

    const events = await stream.done;
    expectOneTerminal(events);
    expect(events.find((event) => event.type === "tool_result")).toMatchObject({
      is_error: true,
      approval: "denied",
      result: "The user denied this tool call; it was not run. Reason: keep my notes",
    });
    const complete = events.at(-1);
    expect(complete?.type === "complete" && complete.full_content).not.toContain("nothing was deleted");
  });

  it("brook chat answers it: --approve-all runs the demo tool; with no terminal and no flag it is denied", async () => {
    const approved = spawnBrookCli(["chat", "--url", demo.url, "--approve-all", prompt]);
    expect((await approved.exited).code).toBe(0);
    expect(approved.stderr()).toContain("approved (--approve-all)");
    expect(approved.stdout()).toContain("Demo: nothing was deleted.");

    const piped = spawnBrookCli(["chat", "--url", demo.url, prompt]);
    expect((await piped.exited).code).toBe(0);
    expect(piped.stderr()).toContain("denied: no terminal to ask on");
    expect(piped.stdout()).not.toContain("nothing was deleted");
  }, 60_000);

  it("an ordinary demo prompt calls no tool, and its answer gives the prompt that does", async () => {
    for (const message of ["hello", "你好"]) {
      const events = await openStream({ message }).done;
      expect(events.some((event) => event.type === "tool_call" || event.type === "tool_approval")).toBe(false);
      expect(contentOf(events)).toContain(prompt);
      expect(events.at(-1)?.type).toBe("complete");
    }
  });
});
