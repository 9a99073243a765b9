import { describe, expect, it } from "vitest";
import { MemoryChatRuns } from "./memory-chat-runs.js";

describe("MemoryChatRuns", () => {
  it("gives each chat's latest run, and the one it replaced", async () => {
    const runs = new MemoryChatRuns(10);
    expect(await runs.set("chat", "run-1")).toBeUndefined();
    expect(await runs.set("chat", "run-2")).toBe("run-1");
    expect(await runs.get("chat")).toBe("run-2");
    expect(await runs.get("other")).toBeUndefined();
  });

  it("keeps the chats used last, up to its capacity", async () => {
    const runs = new MemoryChatRuns(2);
    await runs.set("a", "1");
    await runs.set("b", "2");
    await runs.set("a", "3");
    await runs.set("c", "4");
    expect(await runs.get("b")).toBeUndefined();
    expect(await runs.get("a")).toBe("3");
    expect(await runs.get("c")).toBe("4");
  });
});
