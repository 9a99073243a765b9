/**
 * `brook.streamObject({ message, schema })` with a Zod schema, against a real Brook in front of
 * the fake upstream: partial values as they fill in, the final value parsed with the schema.
 */
import { BrookRunError, createBrookClient } from "@brook/client";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { harness } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

const Recipe = z.object({
  title: z.string(),
  minutes: z.number().int(),
  steps: z.array(z.string()),
});
const recipe = {
  title: 'the title "quoted", then more words',
  minutes: 12345,
  steps: ['the steps "quoted", then more words', 'the steps "quoted", then more words'],
};

describe("streamObject", () => {
  it("sends the Zod schema as JSON Schema, yields partials and resolves with the parsed object", async () => {
    const { url, upstream } = await harness();
    const brook = createBrookClient({ url });
    const stream = brook.streamObject({
      message: `typed client ${fake({ delayMs: 1 })}`,
      schema: Recipe,
      name: "recipe",
    });
    const partials: unknown[] = [];
    for await (const partial of stream) partials.push(structuredClone(partial));
    expect(await stream.object).toEqual(recipe);
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.at(-1)).toEqual(recipe);
    expect(partials.some((partial) => JSON.stringify(partial) !== JSON.stringify(recipe))).toBe(true);
    const terminal = await stream.terminal;
    expect(terminal).toMatchObject({ type: "complete", object: recipe });
    expect(upstream.requests.at(-1)?.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "recipe", schema: z.toJSONSchema(Recipe) },
    });
  });

  it("resolves the object without iterating", async () => {
    const { url } = await harness();
    const object = await createBrookClient({ url }).streamObject({ message: "no iteration", schema: Recipe }).object;
    expect(object.minutes).toBe(12345);
  });

  it("a broken answer rejects with invalid_output, its text kept", async () => {
    const { url } = await harness();
    const stream = createBrookClient({ url }).streamObject({
      message: `broken ${fake({ text: '{"title": "x"}' })}`,
      schema: Recipe,
    });
    const error = await stream.object.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrookRunError);
    expect((error as BrookRunError).event).toMatchObject({ code: "invalid_output", full_content: '{"title": "x"}' });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toBeInstanceOf(BrookRunError);
  });

  it("the final value is parsed with the schema on the client too (refinements the JSON Schema cannot say)", async () => {
    const { url } = await harness();
    const Short = Recipe.refine((value) => value.minutes < 60, "too long");
    const error = await createBrookClient({ url })
      .streamObject({ message: "refined", schema: Short })
      .object.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(z.ZodError);
  });
});
