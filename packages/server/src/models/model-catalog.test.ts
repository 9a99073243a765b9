import { describe, expect, it } from "vitest";
import { parseModelCatalog } from "./model-catalog.js";

const base = "http://127.0.0.1:1/v1";

describe("parseModelCatalog", () => {
  it("takes entries with only name, base_url, api_key, model and fallbacks; entries of one name are its deployments", () => {
    const { catalog, problems } = parseModelCatalog(
      {
        models: [
          { name: "fast", base_url: base, api_key: "k1", model: "small", fallbacks: ["local"] },
          { name: "fast", base_url: "http://127.0.0.1:2/v1", api_key: "k2", model: "small", fallbacks: ["local"] },
          { name: "local", base_url: base, model: "llama", fallbacks: [] },
        ],
      },
      {},
    );
    expect(problems).toEqual([]);
    expect(catalog.open).toBe(false);
    expect(catalog.models.map((model) => [model.name, model.deployments.map((deployment) => deployment.id)])).toEqual([
      ["fast", ["fast#1", "fast#2"]],
      ["local", ["local#1"]],
    ]);
    expect(catalog.models[0]?.fallbacks).toEqual(["local"]);
    expect(catalog.models[1]?.deployments[0]?.apiKey).toBeUndefined();
  });

  it("reads a key from the variable api_key_env names", () => {
    const { catalog } = parseModelCatalog(
      { models: [{ name: "a", base_url: base, api_key_env: "A_KEY", model: "m" }] },
      { A_KEY: " sk-from-env " },
    );
    expect(catalog.models[0]?.deployments[0]?.apiKey).toBe("sk-from-env");
  });

  it("finds every problem, one line each, without quoting a key", () => {
    const { problems } = parseModelCatalog(
      {
        models: [
          { name: "a", base_url: base, api_key: "sk-secret", api_key_env: "NOT_SET", model: "m", fallbacks: ["zzz"] },
          { name: "b", base_url: "ftp://x", model: "m", colour: "blue" },
          { name: "c", base_url: base, model: "m", fallbacks: ["c"] },
          { name: "d", base_url: base, model: "m", max_concurrent: 0 },
        ],
      },
      {},
    );
    expect(problems).toEqual([
      "models[0] (a): give api_key or api_key_env, not both",
      "models[0] (a): api_key_env names NOT_SET, which is not set",
      expect.stringMatching(/^models\[1\]\.base_url: /),
      "models[1]: unknown field colour",
      expect.stringMatching(/^models\[3\]\.max_concurrent: /),
      'models[0] (a): falls back to "zzz", which no entry names',
      "models[2] (c): falls back to itself",
    ]);
    expect(problems.join("\n")).not.toContain("sk-secret");
  });

  it("finds a cycle through several fallbacks", () => {
    const entry = (name: string, fallbacks: string[]) => ({ name, base_url: base, model: "m", fallbacks });
    const { problems } = parseModelCatalog({ models: [entry("a", ["b"]), entry("b", ["c"]), entry("c", ["a"])] }, {});
    expect(problems).toEqual(["fallbacks go round in a cycle: a → b → c → a"]);
  });

  it("says so when the file lists no model", () => {
    expect(parseModelCatalog({ models: [] }, {}).problems).toEqual(["models: lists no model"]);
    expect(parseModelCatalog([], {}).problems).toHaveLength(1);
  });
});
