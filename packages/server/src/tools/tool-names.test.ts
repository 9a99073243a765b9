import { describe, expect, it } from "vitest";
import { assignToolNames, sanitizeToolName } from "./tool-names.js";

describe("tool names", () => {
  it("keeps valid names and replaces characters OpenAI functions do not allow", () => {
    expect(sanitizeToolName("get-sum")).toBe("get-sum");
    expect(sanitizeToolName("files.read file")).toBe("files_read_file");
    expect(sanitizeToolName("天气")).toBe("__");
    expect(sanitizeToolName("")).toBe("tool");
  });

  it("cuts names to 64 characters", () => {
    expect(sanitizeToolName("x".repeat(128))).toHaveLength(64);
  });

  it("prefixes the server with several servers, and maps each name back", () => {
    const names = assignToolNames(
      [
        { server: "alpha", tool: "echo" },
        { server: "beta", tool: "echo" },
      ],
      true,
    );
    expect([...names.keys()]).toEqual(["alpha__echo", "beta__echo"]);
    expect(names.get("beta__echo")).toEqual({ server: "beta", tool: "echo" });
  });

  it("keeps names unique when sanitising or cutting makes them collide", () => {
    const long = "y".repeat(70);
    const names = assignToolNames(
      [
        { server: "s", tool: "a.b" },
        { server: "s", tool: "a_b" },
        { server: "s", tool: `${long}1` },
        { server: "s", tool: `${long}2` },
      ],
      false,
    );
    const keys = [...names.keys()];
    expect(keys.slice(0, 2)).toEqual(["a_b", "a_b_2"]);
    expect(new Set(keys).size).toBe(4);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(names.get("a_b_2")?.tool).toBe("a_b");
  });
});
