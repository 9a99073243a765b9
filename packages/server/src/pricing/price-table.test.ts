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
        "gpt-4o-mini": { input_per_mtok: 0, output_per_mtok: 0 },
      },
    });
    expect(table.price("my-model", 1_000_000, 500_000)).toEqual({ cost: 2, priced: true });
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
