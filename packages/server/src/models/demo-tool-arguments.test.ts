import { describe, expect, it } from "vitest";
import { demoToolArguments } from "./demo-tool-arguments.js";

describe("demoToolArguments", () => {
  it("takes a path-looking word for a path, and '.' when the question has none", () => {
    const readFile = { type: "object", properties: { path: { type: "string" } }, required: ["path"] };
    expect(demoToolArguments(readFile, "read_file packages/server/package.json please")).toEqual({
      path: "packages/server/package.json",
    });
    expect(demoToolArguments(readFile, "read_file README.md.")).toEqual({ path: "README.md" });
    expect(demoToolArguments(readFile, "list_directory /tmp")).toEqual({ path: "/tmp" });
    expect(demoToolArguments(readFile, "read_file, any one")).toEqual({ path: "." });
    const move = {
      type: "object",
      properties: { source: { type: "string" }, destination: { type: "string" } },
      required: ["source", "destination"],
    };
    expect(demoToolArguments(move, "move_file notes/a.txt to notes/b.txt")).toEqual({
      source: "notes/a.txt",
      destination: "notes/b.txt",
    });
  });

  it("takes the question's numbers in order for numbers, rounded for integers and within the bounds", () => {
    const add = {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    };
    expect(demoToolArguments(add, "add 2.5 and -3")).toEqual({ a: 2.5, b: -3 });
    expect(demoToolArguments(add, "add")).toEqual({ a: 1, b: 1 });
    const steps = {
      type: "object",
      properties: {
        steps: { type: "integer", minimum: 1, maximum: 10 },
        duration: { type: "integer", minimum: 5 },
      },
      required: ["steps", "duration"],
    };
    expect(demoToolArguments(steps, "run 40.6 steps for 2 s")).toEqual({ steps: 10, duration: 5 });
    expect(demoToolArguments(steps, "run 3.4 steps for 7 s")).toEqual({ steps: 3, duration: 7 });
  });

  it("fills booleans, enums, constants, defaults, URLs, arrays and nested objects", () => {
    const schema = {
      type: "object",
      properties: {
        includeImage: { type: "boolean" },
        messageType: { type: "string", enum: ["error", "success", "debug"] },
        kind: { const: "note" },
        dryRun: { type: "boolean", default: false },
        url: { type: "string" },
        homepage: { type: "string", format: "uri" },
        tags: { type: "array", items: { type: "string" } },
        entity: {
          type: "object",
          properties: { name: { type: "string" }, count: { type: ["integer", "null"] }, note: { type: "string" } },
          required: ["name", "count"],
        },
        limit: { anyOf: [{ type: "null" }, { type: "number" }] },
        optional: { type: "string" },
      },
      required: ["includeImage", "messageType", "kind", "dryRun", "url", "homepage", "tags", "entity", "limit"],
    };
    expect(demoToolArguments(schema, "fetch https://example.org/a?b=1 and https://brook.dev 4 5")).toEqual({
      includeImage: true,
      messageType: "error",
      kind: "note",
      dryRun: false,
      url: "https://example.org/a?b=1",
      homepage: "https://brook.dev",
      tags: ["fetch https://example.org/a?b=1 and https://brook.dev 4 5"],
      entity: { name: "fetch https://example.org/a?b=1 and https://brook.dev 4 5", count: 4 },
      limit: 5,
    });
  });

  it("gives the question to text fields, and nothing to a tool without required fields", () => {
    const echo = { type: "object", properties: { message: { type: "string" } }, required: ["message"] };
    expect(demoToolArguments(echo, "echo hello there")).toEqual({ message: "echo hello there" });
    expect(demoToolArguments({ type: "object", properties: { message: { type: "string" } } }, "echo")).toEqual({});
    expect(demoToolArguments({}, "anything")).toEqual({});
  });
});
