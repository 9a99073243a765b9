import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../config/config-error.js";
import { PriceOverride } from "../pricing/price-table.js";

/** One entry of a `MODELS` file: a deployment of the model `name` (several entries may share it). */
const ModelEntry = z.strictObject({
  /** What requests call it (`model`), listed by `/v1/models`. */
  name: z.string().trim().min(1).max(200),
  base_url: z.url({ protocol: /^https?$/ }),
  /** The key, written in the file; or `api_key_env`, the variable that holds it. Neither: no key (local servers). */
  api_key: z.string().min(1).optional(),
  api_key_env: z.string().min(1).optional(),
  /** The model's id at that server. */
  model: z.string().trim().min(1),
  /** Names tried in order when no deployment of this one can answer before its first token. */
  fallbacks: z.array(z.string().trim().min(1)).default([]),
  /** US dollars per million tokens; absent: the built-in price of `model`, if any. */
  prices: PriceOverride.optional(),
  /** It thinks before it answers, possibly without streaming its thoughts: it gets FIRST_TOKEN_TIMEOUT_MS, not FALLBACK_TIMEOUT_MS, before Brook moves on. */
  reasoning: z.boolean().default(false),
  /** Calls this deployment takes at once; past it, requests go elsewhere. */
  max_concurrent: z.number().int().min(1).optional(),
  /** HTTP headers sent with each call (a gateway's tenant, an API version). */
  headers: z.record(z.string(), z.string()).default({}),
});

const ModelsFile = z.strictObject({ models: z.array(z.unknown()).min(1, "lists no model") });

export type ModelPrices = z.infer<typeof PriceOverride>;

/** One deployment: a model server that serves model `name`. */
export interface Deployment {
  /** `name#n`, n counting the entries of that name from 1: how `/health` and `/metrics` call it. */
  readonly id: string;
  readonly name: string;
  readonly baseURL: string | undefined;
  /** Never logged nor shown. */
  readonly apiKey: string | undefined;
  /** The id the model server knows it by. */
  readonly upstreamModel: string;
  readonly maxConcurrent: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly reasoning: boolean;
}

/** A model as requests name it: its deployments, its fallbacks, its price. */
export interface CatalogModel {
  readonly name: string;
  readonly deployments: readonly Deployment[];
  readonly fallbacks: readonly string[];
  readonly prices: ModelPrices | undefined;
}

/**
 * The models Brook routes to, in the order configured (the first is the default). `open`: any
 * other name goes to the first model's deployments as that name (the OPENAI_* configuration, as
 * before MODELS); else an unknown name is refused.
 */
export interface ModelCatalog {
  readonly models: readonly CatalogModel[];
  readonly open: boolean;
}

/** The OPENAI_* variables as a catalog of one model and one deployment. */
export function singleServerCatalog(settings: {
  baseURL: string | undefined;
  apiKey: string | undefined;
  model: string;
}): ModelCatalog {
  const deployment: Deployment = {
    id: `${settings.model}#1`,
    name: settings.model,
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    upstreamModel: settings.model,
    maxConcurrent: undefined,
    headers: {},
    reasoning: false,
  };
  return {
    models: [{ name: settings.model, deployments: [deployment], fallbacks: [], prices: undefined }],
    open: true,
  };
}

/** Reads a `MODELS` file; every problem is one line of the ConfigError. */
export function loadModelCatalog(path: string, env: Record<string, string | undefined>): ModelCatalog {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`MODELS (${path})`, `cannot read it as JSON (${(error as Error).message})`);
  }
  const { catalog, problems } = parseModelCatalog(json, env);
  if (problems.length > 0) {
    const error = new ConfigError(`MODELS (${path})`, problems);
    error.message = `Invalid configuration: MODELS (${path}): ${problems.length === 1 ? "" : `${problems.length} problems:\n  `}${problems.join("\n  ")}`;
    throw error;
  }
  return catalog;
}

/** Validates a `MODELS` document: the catalog, and each problem found in one line (no key ever quoted). */
export function parseModelCatalog(
  json: unknown,
  env: Record<string, string | undefined>,
): { catalog: ModelCatalog; problems: string[] } {
  const problems: string[] = [];
  const file = ModelsFile.safeParse(json);
  if (!file.success) {
    for (const issue of file.error.issues) problems.push(`${issue.path.join(".") || "the file"}: ${issue.message}`);
    return { catalog: { models: [], open: false }, problems };
  }
  const byName = new Map<string, { entries: { entry: z.infer<typeof ModelEntry>; index: number }[] }>();
  file.data.models.forEach((raw, index) => {
    const parsed = ModelEntry.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(entryProblem(index, issue));
      return;
    }
    const entry = parsed.data;
    if (entry.api_key !== undefined && entry.api_key_env !== undefined) {
      problems.push(`models[${index}] (${entry.name}): give api_key or api_key_env, not both`);
    }
    if (entry.api_key_env !== undefined && (env[entry.api_key_env] ?? "").trim() === "") {
      problems.push(`models[${index}] (${entry.name}): api_key_env names ${entry.api_key_env}, which is not set`);
    }
    const group = byName.get(entry.name) ?? { entries: [] };
    group.entries.push({ entry, index });
    byName.set(entry.name, group);
  });
  const models: CatalogModel[] = [];
  for (const [name, { entries }] of byName) {
    const first = entries[0] as (typeof entries)[number];
    for (const { entry, index } of entries.slice(1)) {
      if (JSON.stringify(entry.prices) !== JSON.stringify(first.entry.prices)) {
        problems.push(
          `models[${index}] (${name}): its prices differ from those of models[${first.index}], a deployment of the same name`,
        );
      }
      // A deployment may leave its fallbacks to the name's first entry, not contradict them.
      if (entry.fallbacks.length > 0 && JSON.stringify(entry.fallbacks) !== JSON.stringify(first.entry.fallbacks)) {
        problems.push(
          `models[${index}] (${name}): its fallbacks differ from those of models[${first.index}], a deployment of the same name`,
        );
      }
    }
    for (const fallback of first.entry.fallbacks) {
      if (fallback === name) problems.push(`models[${first.index}] (${name}): falls back to itself`);
      else if (!byName.has(fallback))
        problems.push(`models[${first.index}] (${name}): falls back to "${fallback}", which no entry names`);
    }
    models.push({
      name,
      fallbacks: first.entry.fallbacks,
      prices: first.entry.prices,
      deployments: entries.map(({ entry }, number) => ({
        id: `${name}#${number + 1}`,
        name,
        baseURL: entry.base_url,
        apiKey: entry.api_key ?? (entry.api_key_env === undefined ? undefined : env[entry.api_key_env]?.trim()),
        upstreamModel: entry.model,
        maxConcurrent: entry.max_concurrent,
        headers: entry.headers,
        reasoning: entry.reasoning,
      })),
    });
  }
  const cycle = fallbackCycle(models);
  if (cycle !== undefined) problems.push(`fallbacks go round in a cycle: ${cycle.join(" → ")}`);
  return { catalog: { models, open: false }, problems };
}

/** A field's problem, without the value (it may be a key). */
function entryProblem(index: number, issue: z.core.$ZodIssue): string {
  const field = issue.path.length === 0 ? "" : `.${issue.path.join(".")}`;
  if (issue.code === "invalid_type" && issue.message.includes("undefined")) {
    return `models[${index}]${field}: missing`;
  }
  if (issue.code === "unrecognized_keys") return `models[${index}]: unknown field ${issue.keys.join(", ")}`;
  return `models[${index}]${field}: ${issue.message}`;
}

/** The first cycle among the fallbacks (`a → b → a`), if any: a request could go round forever. */
function fallbackCycle(models: readonly CatalogModel[]): string[] | undefined {
  const fallbacks = new Map(models.map((model) => [model.name, model.fallbacks]));
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    const seen = path.indexOf(name);
    if (seen >= 0) return [...path.slice(seen), name];
    if (done.has(name)) return undefined;
    for (const next of fallbacks.get(name) ?? []) {
      if (next === name) continue;
      const cycle = visit(next, [...path, name]);
      if (cycle !== undefined) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const model of models) {
    const cycle = visit(model.name, []);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}
