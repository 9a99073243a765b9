import { describe, expect, it } from "vitest";
import { inputContent } from "./input-content.js";

const schema = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1 },
    email: { type: "string", format: "email" },
    age: { type: "integer", minimum: 0 },
    color: { type: "string", enum: ["red", "green"], default: "green" },
    tags: { type: "array", items: { type: "string", enum: ["a", "b"] } },
    subscribe: { type: "boolean", default: false },
  },
  required: ["name", "color"],
};

describe("inputContent", () => {
  const content = inputContent(schema);

  it("accepts content that fits, a required field with a default left out included", () => {
    expect(content.check({ action: "accept", content: { name: "Ada", age: 3, tags: ["a"] } })).toBeUndefined();
  });

  it("names the field that does not fit, formats included", () => {
    expect(content.check({ action: "accept", content: { color: "red" } })).toEqual({
      field: "content.name",
      problem: "is required",
    });
    expect(content.check({ action: "accept", content: { name: "Ada", age: 1.5 } })).toMatchObject({
      field: "content.age",
    });
    expect(content.check({ action: "accept", content: { name: "Ada", email: "not-mail" } })).toMatchObject({
      field: "content.email",
      problem: expect.stringContaining("email"),
    });
    expect(content.check({ action: "accept", content: { name: "Ada", color: "blue" } })).toMatchObject({
      field: "content.color",
    });
    expect(content.check({ action: "accept", content: { name: "Ada", tags: ["c"] } })).toMatchObject({
      field: "content.tags.0",
    });
  });

  it("refuses what is not an answer, and does not check the content of a decline or cancel", () => {
    expect(content.check({ approved: true })).toMatchObject({ field: "action" });
    expect(content.check({ action: "decline", content: { age: "x" } })).toBeUndefined();
    expect(content.check({ action: "cancel" })).toBeUndefined();
  });

  it("fills the defaults of fields left out, without changing what it was given", () => {
    const given = { name: "Ada" };
    expect(content.fill(given)).toEqual({ name: "Ada", color: "green", subscribe: false });
    expect(given).toEqual({ name: "Ada" });
    expect(content.fill(undefined)).toEqual({ color: "green", subscribe: false });
  });

  it("throws on a schema it cannot compile", () => {
    expect(() => inputContent({ type: "object", properties: { a: { type: "nonsense" } } })).toThrow();
  });
});
