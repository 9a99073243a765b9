import { describe, expect, it } from "vitest";
import { DemoTools, demoToolName } from "./demo-tools.js";

describe("demo mode's tools", () => {
  const tools = new DemoTools();
  const signal = new AbortController().signal;

  it("offers the demo tool unless a request selects none or others", () => {
    expect(tools.offered(undefined).map((tool) => tool.name)).toEqual([demoToolName]);
    expect(tools.offered([demoToolName]).map((tool) => tool.name)).toEqual([demoToolName]);
    expect(tools.offered(false)).toEqual([]);
    expect(tools.offered(["echo"])).toEqual([]);
  });

  it("needs approval for every call of the demo tool, and only of it", () => {
    expect(tools.approvalServer(demoToolName)).toBe("demo");
    expect(tools.approvalServer("echo")).toBeUndefined();
    expect(tools.list()).toMatchObject([{ name: demoToolName, needs_approval: true }]);
  });

  it("deletes nothing and says so; bad arguments and other names are errors", async () => {
    const called = await tools.call({ id: "c", name: demoToolName, arguments: '{"path":"notes.txt"}' }, signal);
    expect(called.isError).toBe(false);
    expect(called.text).toContain('nothing was deleted. With a real MCP server\'s tool, "notes.txt" would be gone now');
    expect((await tools.call({ id: "c", name: demoToolName, arguments: "{" }, signal)).isError).toBe(true);
    expect((await tools.call({ id: "c", name: "echo", arguments: "{}" }, signal)).isError).toBe(true);
  });
});
