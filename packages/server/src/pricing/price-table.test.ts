import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPriceOverrides, PriceTable } from "./price-table.js";

describe("PriceTable", () => {
  it("prices known models from the maintained price data", () => {
    expect(new PriceTable().price("gpt-4o-mini", 1000, 500)).toEqual({ cost: 0.00045, priced: true });
  });

  it("prices dated snapshots and router-style vendor/model names", () => {
    const table = new PriceTable();
    expect(table.price("gpt-4o-mini-2024-07-18", 1000, 500).cost).toBe(0.00045);
    expect(table.price("openai/gpt-4o-mini", 1000, 500).cost).toBe(0.00045);
  });

  it("prices a model it has seen before exactly as the price data does, tiers and dated prices included", () => {
    const table = new PriceTable();
    const models = [
      "gpt-4o-mini",
      "claude-3-5-sonnet-latest",
      "gemini-1.5-pro",
      "o3",
      "deepseek-chat",
      "openai/gpt-4o",
    ];
    for (const model of models) table.price(model, 1, 1);
    for (const model of models) {
      for (const [input, output] of [
        [0, 0],
        [1000, 500],
        [200_000, 7],
        [123_457, 98_765],
      ] as const) {
        expect(table.price(model, input, output), `${model} ${input}/${output}`).toEqual(
          new PriceTable().price(model, input, output),
        );
      }
    }
  });

  it("prices cached input at the model's cache-read rate, the first time and from its remembered rates", () => {
    const table = new PriceTable();
    // gpt-4o-mini: 0.15 $/Mtok input, 0.075 cached, 0.60 output.
    const expected = (1_000_000 * 0.15 + 1_000_000 * 0.075 + 500_000 * 0.6) / 1e6;
    expect(table.price("gpt-4o-mini", 2_000_000, 500_000, 1_000_000)).toEqual({ cost: expected, priced: true });
    expect(table.price("gpt-4o-mini", 2_000_000, 500_000, 1_000_000)).toEqual({ cost: expected, priced: true });
    expect(new PriceTable().price("gpt-4o-mini", 2_000_000, 500_000)).toEqual({ cost: 0.6, priced: true });
    // More cached than input is a server's mistake: at most all of the input is cached.
    expect(table.price("gpt-4o-mini", 1_000_000, 0, 5_000_000)).toEqual({ cost: 0.075, priced: true });
    // A model without a cache-read rate bills cached input as input, as the price data does.
    expect(table.price("gpt-3.5-turbo", 1_000_000, 0, 500_000)).toEqual(
      new PriceTable().price("gpt-3.5-turbo", 1_000_000, 0),
    );
  });

  it("prices cached input of a model it has seen before exactly as the price data does", () => {
    const table = new PriceTable();
    const models = ["gpt-4o-mini", "claude-3-5-sonnet-latest", "deepseek-chat", "o3", "gemini-1.5-pro"];
    for (const model of models) table.price(model, 1, 1);
    for (const model of models) {
      expect(table.price(model, 123_457, 98_765, 100_000), model).toEqual(
        new PriceTable().price(model, 123_457, 98_765, 100_000),
      );
    }
  });

  it("reports unknown models as unpriced with cost 0, warning once per model", () => {
    const warned: string[] = [];
    const table = new PriceTable({ onUnpriced: (model) => warned.push(model) });
    expect(table.price("my-local-llama", 10, 10)).toEqual({ cost: 0, priced: false });
    table.price("my-local-llama", 10, 10);
    expect(warned).toEqual(["my-local-llama"]);
  });

  it("lets MODEL_PRICES add models and override known ones", () => {
    const table = new PriceTable({
      overrides: {
        "my-model": { input_per_mtok: 1, output_per_mtok: 2 },
        "my-cached-model": { input_per_mtok: 1, output_per_mtok: 2, cached_input_per_mtok: 0.25 },
        "gpt-4o-mini": { input_per_mtok: 0, output_per_mtok: 0 },
      },
    });
    expect(table.price("my-model", 1_000_000, 500_000)).toEqual({ cost: 2, priced: true });
    // Without a cache-read rate, cached input costs what input does.
    expect(table.price("my-model", 1_000_000, 500_000, 400_000)).toEqual({ cost: 2, priced: true });
    expect(table.price("my-cached-model", 1_000_000, 500_000, 400_000)).toEqual({ cost: 1.7, priced: true });
    expect(table.price("GPT-4o-mini", 1000, 500)).toEqual({ cost: 0, priced: true });
  });

  it("rejects a MODEL_PRICES file with a clear message naming the entry", () => {
    const directory = mkdtempSync(join(tmpdir(), "brook-prices-"));
    const bad = join(directory, "bad.json");
    writeFileSync(bad, JSON.stringify({ "my-model": { input_per_mtok: "cheap", output_per_mtok: 1 } }));
    expect(() => loadPriceOverrides(bad)).toThrow(/MODEL_PRICES \(.*\): my-model\.input_per_mtok/);
    const broken = join(directory, "broken.json");
    writeFileSync(broken, "{");
    expect(() => loadPriceOverrides(broken)).toThrow(/MODEL_PRICES: cannot read .* as JSON/);
  });
});
