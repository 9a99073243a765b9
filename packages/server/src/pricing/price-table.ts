import { readFileSync } from "node:fs";
import { calcPrice, type PriceCalculation } from "@pydantic/genai-prices";
import { z } from "zod";
import { ConfigError } from "../config/config-error.js";

/** One entry of a `MODEL_PRICES` file: US dollars per million tokens. */
export const PriceOverride = z.object({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
  /** Input read from the model server's prompt cache; absent: the input rate. */
  cached_input_per_mtok: z.number().nonnegative().optional(),
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
  /** Names priced as another model (a `MODELS` name without prices: as the model its server runs). */
  aliases?: Record<string, string>;
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
  /**
   * Per model name: its flat rates (US dollars per million tokens) when its price depends on
   * nothing but its token counts, else null. Looking a model up in the price data costs far
   * more than the rest of a run's bookkeeping.
   */
  readonly #flatRates = new Map<string, FlatRates | null>();
  readonly #onUnpriced: (model: string) => void;
  readonly #aliases: ReadonlyMap<string, string>;

  constructor(options: PriceTableOptions = {}) {
    this.#aliases = new Map(Object.entries(options.aliases ?? {}));
    this.#overrides = new Map(
      Object.entries(options.overrides ?? {}).map(([model, price]) => [model.toLowerCase(), price]),
    );
    this.#onUnpriced = options.onUnpriced ?? (() => {});
  }

  /** `cachedInputTokens` is the part of `inputTokens` read from the prompt cache, at the cache-read rate. */
  price(named: string, inputTokens: number, outputTokens: number, cachedInputTokens = 0): Price {
    const model = this.#overrides.has(named.toLowerCase()) ? named : (this.#aliases.get(named) ?? named);
    const usage: TokenUsage = {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cache_read_tokens: Math.min(cachedInputTokens, inputTokens),
    };
    const override = this.#overrides.get(model.toLowerCase());
    if (override !== undefined) {
      const rates = {
        input: override.input_per_mtok,
        output: override.output_per_mtok,
        cacheRead: override.cached_input_per_mtok ?? override.input_per_mtok,
      };
      return { cost: round(flatCost(usage, rates)), priced: true };
    }
    const known = this.#lookup(model, usage);
    if (known !== undefined) return { cost: round(known), priced: true };
    // Callers choose model names: remember (and warn about) a bounded number of them.
    if (!this.#unpriced.has(model) && this.#unpriced.size < maxRemembered) {
      this.#unpriced.add(model);
      this.#onUnpriced(model);
    }
    return { cost: 0, priced: false };
  }

  #lookup(model: string, usage: TokenUsage): number | undefined {
    try {
      const direct = this.#calc(usage, model);
      if (direct !== undefined) return direct;
      // Routers name models "vendor/model" (OpenRouter, LiteLLM): price the model itself.
      const slash = model.lastIndexOf("/");
      if (slash <= 0) return undefined;
      return this.#calc(usage, model.slice(slash + 1));
    } catch {
      // The price data rejects usage it finds inconsistent; an answer must not fail over its price.
      return undefined;
    }
  }

  #calc(usage: TokenUsage, model: string): number | undefined {
    const rates = this.#flatRates.get(model);
    if (rates != null) return flatCost(usage, rates);
    const result = calcPrice(usage, model);
    if (result === null) return undefined;
    if (rates === undefined && this.#flatRates.size < maxRemembered) this.#flatRates.set(model, flatRates(result));
    return result.total_price;
  }
}

/** What a run used, as the price data names it: `cache_read_tokens` is part of `input_tokens`. */
type TokenUsage = {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
};

/** US dollars per million tokens. */
interface FlatRates {
  input: number;
  output: number;
  /** Input read from the prompt cache. */
  cacheRead: number;
}

function flatCost(usage: TokenUsage, rates: FlatRates): number {
  const uncached = usage.input_tokens - usage.cache_read_tokens;
  return (
    (uncached * rates.input + usage.cache_read_tokens * rates.cacheRead + usage.output_tokens * rates.output) / 1e6
  );
}

/**
 * The rates of a price that is the same for every request: no dates or times of day, no tiers,
 * no fee per request. Other keys (cache writes, search) price usage Brook never reports. A model
 * without a cache-read rate bills cached input as input, as the price data does.
 */
function flatRates(result: PriceCalculation): FlatRates | null {
  if (Array.isArray(result.model.prices) || "requests_kcount" in result.model_price) return null;
  const input = result.model_price.input_mtok ?? 0;
  const output = result.model_price.output_mtok ?? 0;
  const cacheRead = result.model_price.cache_read_mtok ?? input;
  return typeof input === "number" && typeof output === "number" && typeof cacheRead === "number"
    ? { input, output, cacheRead }
    : null;
}

/** Reads and validates a `MODEL_PRICES` file; the error names the file and the bad entry. */
export function loadPriceOverrides(path: string): PriceOverrides {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError("MODEL_PRICES", `cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const parsed = PriceOverrides.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`MODEL_PRICES (${path})`, `${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Dollars to 10 decimal places: no float noise like 0.00033000000000000005. */
function round(dollars: number): number {
  return Math.round(dollars * 1e10) / 1e10;
}
