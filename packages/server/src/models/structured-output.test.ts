import { describe, expect, it } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";
import { compileOutput, finalObject, partialObject } from "./structured-output.js";

const schema = {
  type: "object",
  properties: { name: { type: "string" }, count: { type: "integer", minimum: 0 } },
  required: ["name", "count"],
};

function refusal(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected a refusal");
}

describe("compileOutput", () => {
  it("describes the response format, with name `answer` by default and strict only when given", () => {
    expect(compileOutput({ schema }).format).toEqual({ type: "json_schema", name: "answer", schema });
    expect(compileOutput({ schema, name: "n", description: "d", strict: true }).format).toEqual({
      type: "json_schema",
      name: "n",
      schema,
      description: "d",
      strict: true,
    });
  });

  it("compiles draft 2020-12 (Zod's) and draft 07 schemas", () => {
    const defs = { $schema: "https://json-schema.org/draft/2020-12/schema", $defs: { s: { type: "string" } } };
    const modern = compileOutput({ schema: { ...defs, type: "object", properties: { a: { $ref: "#/$defs/s" } } } });
    expect(modern.mismatch({ a: 1 })).toBe("/a must be string");
    const old = compileOutput({
      schema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        definitions: { s: { type: "string" } },
        properties: { a: { $ref: "#/definitions/s" } },
      },
    });
    expect(old.mismatch({ a: "x" })).toBeUndefined();
  });

  it("refuses a schema that is not valid JSON Schema, or not of an object, naming the field", () => {
    expect(
      refusal(() => compileOutput({ schema: { type: "object", properties: { a: { type: "text" } } } })).fields,
    ).toHaveProperty(["output.schema"]);
    expect(refusal(() => compileOutput({ schema: { type: "string" } })).fields["output.schema"]?.[0]).toMatch(
      /of an object/,
    );
    expect(refusal(() => compileOutput({ schema: { items: {} } }, "brook.output.schema")).fields).toHaveProperty([
      "brook.output.schema",
    ]);
  });

  it("keeps no schema after compiling: the same $id may come again with another schema", () => {
    const first = compileOutput({ schema: { $id: "https://example.com/same.json", type: "object", required: ["a"] } });
    const second = compileOutput({ schema: { $id: "https://example.com/same.json", type: "object", required: ["b"] } });
    expect(first.mismatch({ a: 1 })).toBeUndefined();
    expect(second.mismatch({ a: 1 })).toMatch(/required property 'b'/);
  });
});

describe("partialObject", () => {
  it("parses what has come so far, strings cut midway included, numbers only once whole", () => {
    expect(partialObject("")).toBeUndefined();
    expect(partialObject('{"name": "Ri')).toEqual({ name: "Ri" });
    expect(partialObject('{"name": "River", "count": 12')).toEqual({ name: "River" });
    expect(partialObject('{"name": "River", "count": 125,')).toEqual({ name: "River", count: 125 });
    expect(partialObject("not json")).toBeUndefined();
  });
});

describe("finalObject", () => {
  const output = compileOutput({ schema });

  it("returns the value that matches", () => {
    expect(finalObject('{"name": "River", "count": 3}', output)).toEqual({ name: "River", count: 3 });
  });

  it("says what did not match, or that the text is not JSON, as invalid_output", () => {
    const failure = (text: string) => {
      try {
        finalObject(text, output);
      } catch (error) {
        expect(error).toBeInstanceOf(BrookError);
        expect((error as BrookError).code).toBe("invalid_output");
        return (error as BrookError).message;
      }
      throw new Error("expected invalid_output");
    };
    expect(failure('{"name": 1, "count": -1}')).toMatch(/\/name must be string.*\/count must be >= 0/);
    expect(failure('{"name": "x"}')).toMatch(/must have required property 'count'/);
    expect(failure('{"name": "x", "count": 1')).toMatch(/not JSON/);
  });
});

describe("compiled schemas are reused", () => {
  it("compiles a schema sent again once, and still checks each answer on its own", () => {
    const first = compileOutput({ schema: structuredClone(schema), name: "cached" });
    const again = compileOutput({ schema: structuredClone(schema), name: "cached" });
    expect(again).toBe(first);
    expect(again.mismatch({ name: "a", count: 1 })).toBeUndefined();
    expect(again.mismatch({ name: "a", count: -1 })).toContain("count");
    expect(compileOutput({ schema: structuredClone(schema), name: "other" })).not.toBe(first);
  });
});
