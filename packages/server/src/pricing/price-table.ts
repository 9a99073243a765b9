import { readFileSync } from "node:fs";
import { calcPrice } from "@pydantic/genai-prices";
import { z } from "zod";

/** One entry of a `MODEL_PRICES` file: US dollars per million tokens. */
const PriceOverride = z.object({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
});
export const PriceOverrides = z.record(z.string().min(1), PriceOverride);
export type PriceOverrides = z.infer<typeof PriceOverrides>;

const maxRemembered = 1_000;

export interface Price {
  /** US dollars. */
  cost: number;
  priced: boolean;
}

export interface PriceTableOptions {
  overrides?: PriceOverrides;
  /** Called once per model that has no known price. */
  onUnpriced?: (model: string) => void;
}

/**
 * Costs from the maintained genai-prices data (offline, shipped with the package), extended or
 * overridden by a `MODEL_PRICES` file. Unknown models cost 0 and say so with `priced: false`.
 */
export class PriceTable {
  readonly #overrides: Map<string, z.infer<typeof PriceOverride>>;
  readonly #unpriced = new Set<string>();
  readonly #onUnpriced: (model: string) => void;

  constructor(options: PriceTableOptions = {}) {
    this.#overrides = new Map(
      Object.entries(options.overrides ?? {}).map(([model, price]) => [model.toLowerCase(), price]),
    );
    this.#onUnpriced = options.onUnpriced ?? (() => {});
  }

  price(model: string, inputTokens: number, outputTokens: number): Price {
    const override = this.#overrides.get(model.toLowerCase());
    if (override !== undefined) {
      return {
        cost: round((inputTokens * override.input_per_mtok + outputTokens * override.output_per_mtok) / 1e6),
        priced: true,
      };
    }
    const known = this.#lookup(model, inputTokens, outputTokens);
    if (known !== undefined) return { cost: round(known), priced: true };
    // Callers choose model names: remember (and warn about) a bounded number of them.
    if (!this.#unpriced.has(model) && this.#unpriced.size < maxRemembered) {
      this.#unpriced.add(model);
      this.#onUnpriced(model);
    }
    return { cost: 0, priced: false };
  }

  #lookup(model: string, inputTokens: number, outputTokens: number): number | undefined {
    const usage = { input_tokens: inputTokens, output_tokens: outputTokens };
    try {
      const direct = calcPrice(usage, model);
      if (direct !== null) return direct.total_price;
      // Routers name models "vendor/model" (OpenRouter, LiteLLM): price the model itself.
      const slash = model.lastIndexOf("/");
      if (slash <= 0) return undefined;
      return calcPrice(usage, model.slice(slash + 1))?.total_price;
    } catch {
      // The price data rejects usage it finds inconsistent; an answer must not fail over its price.
      return undefined;
    }
  }
}

/** Reads and validates a `MODEL_PRICES` file; the error names the file and the bad entry. */
export function loadPriceOverrides(path: string): PriceOverrides {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`MODEL_PRICES: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const parsed = PriceOverrides.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`MODEL_PRICES: ${path}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Dollars to 10 decimal places: no float noise like 0.00033000000000000005. */
function round(dollars: number): number {
  return Math.round(dollars * 1e10) / 1e10;
}
