import { describe, expect, it } from "vitest";
import { ToolCallAssembler } from "./tool-call-assembler.js";

function assemble(...chunks: unknown[][]) {
  const assembler = new ToolCallAssembler();
  for (const chunk of chunks) assembler.add(chunk);
  return assembler.finish();
}

describe("ToolCallAssembler", () => {
  it("assembles OpenAI's shape: id and name first, arguments in pieces", () => {
    expect(
      assemble(
        [{ index: 0, id: "call_a", type: "function", function: { name: "echo", arguments: "" } }],
        [{ index: 0, function: { arguments: '{"mess' } }],
        [{ index: 0, function: { arguments: 'age":"hi"}' } }],
      ),
    ).toEqual([{ id: "call_a", name: "echo", arguments: '{"message":"hi"}' }]);
  });

  it("keeps two parallel calls apart by index, even interleaved", () => {
    expect(
      assemble(
        [{ index: 0, id: "a", function: { name: "echo", arguments: "" } }],
        [{ index: 1, id: "b", function: { name: "add", arguments: '{"a":' } }],
        [{ index: 0, function: { arguments: '{"message":"x"}' } }],
        [{ index: 1, function: { arguments: "1}" } }],
      ),
    ).toEqual([
      { id: "a", name: "echo", arguments: '{"message":"x"}' },
      { id: "b", name: "add", arguments: '{"a":1}' },
    ]);
  });

  it("gives a call without an id a generated one", () => {
    const [call] = assemble([{ index: 0, function: { name: "echo", arguments: "{}" } }]);
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it("continues the latest call when the index is missing", () => {
    expect(
      assemble(
        [{ id: "a", function: { name: "echo", arguments: '{"message":' } }],
        [{ function: { arguments: '"y"}' } }],
      ),
    ).toEqual([{ id: "a", name: "echo", arguments: '{"message":"y"}' }]);
  });

  it("starts a new call when a repeated index comes with a new id", () => {
    expect(
      assemble(
        [{ index: 0, id: "a", function: { name: "echo", arguments: '{"message":"1"}' } }],
        [{ index: 0, id: "b", function: { name: "echo", arguments: '{"message":"2"}' } }],
      ),
    ).toEqual([
      { id: "a", name: "echo", arguments: '{"message":"1"}' },
      { id: "b", name: "echo", arguments: '{"message":"2"}' },
    ]);
  });

  it("starts a new call for whole calls sent one after another without index or id", () => {
    const calls = assemble(
      [{ function: { name: "echo", arguments: '{"message":"1"}' } }],
      [{ function: { name: "add", arguments: '{"a":1,"b":2}' } }],
    );
    expect(calls.map((call) => [call.name, call.arguments])).toEqual([
      ["echo", '{"message":"1"}'],
      ["add", '{"a":1,"b":2}'],
    ]);
    expect(calls[0]?.id).not.toBe(calls[1]?.id);
  });

  it("does not double a name or id the server repeats in every piece", () => {
    expect(
      assemble(
        [{ index: 0, id: "a", function: { name: "echo", arguments: '{"message":' } }],
        [{ index: 0, id: "a", function: { name: "echo", arguments: '"z"}' } }],
      ),
    ).toEqual([{ id: "a", name: "echo", arguments: '{"message":"z"}' }]);
  });

  it("ignores junk, and leaves out calls that never got a name but counts them", () => {
    const assembler = new ToolCallAssembler();
    assembler.add([null as unknown, "x", { index: 3, function: { arguments: "{}" } }]);
    assembler.add([{ index: 5 }]);
    expect(assembler.finish()).toEqual([]);
    expect(assembler.unnamed).toBe(2);
  });
});
