import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { isDemoMode, parseConfig, runsPerKeyCap } from "./config.js";
import { ConfigError } from "./config-error.js";

describe("parseConfig", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ PORT: 8081, HOST: "127.0.0.1", OPENAI_MODEL: "gpt-4o-mini", SSE_PING_MS: 15_000 });
    expect(isDemoMode(config)).toBe(true);
  });

  it("bounds runs in bytes by default, and refuses byte bounds too small to hold an answer", () => {
    expect(parseConfig({})).toMatchObject({ RUN_BUFFER_BYTES: 1_048_576, RUN_MAX_BYTES: 8_388_608 });
    expect(parseConfig({ RUN_BUFFER_BYTES: "65536", RUN_MAX_BYTES: "1048576" })).toMatchObject({
      RUN_BUFFER_BYTES: 65_536,
      RUN_MAX_BYTES: 1_048_576,
    });
    expect(() => parseConfig({ RUN_BUFFER_BYTES: "100" })).toThrow(/RUN_BUFFER_BYTES/);
    expect(() => parseConfig({ RUN_MAX_BYTES: "0" })).toThrow(/RUN_MAX_BYTES/);
    expect(() => parseConfig({ RUN_MAX_BYTES: "lots" })).toThrow(/RUN_MAX_BYTES/);
  });

  it("leaves demo mode as soon as a key, a base URL or a MODELS file is set", () => {
    expect(isDemoMode(parseConfig({ MODELS: "./models.json" }))).toBe(false);
    expect(parseConfig({})).toMatchObject({ FALLBACK_TIMEOUT_MS: 10_000, MODEL_COOLDOWN_MS: 30_000 });
    expect(isDemoMode(parseConfig({ OPENAI_API_KEY: "sk-test" }))).toBe(false);
    expect(isDemoMode(parseConfig({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" }))).toBe(false);
    expect(isDemoMode(parseConfig({ OPENAI_API_KEY: "", OPENAI_BASE_URL: "" }))).toBe(true);
  });

  it("names every bad variable in one line", () => {
    let error: unknown;
    try {
      parseConfig({ PORT: "eighty", OPENAI_BASE_URL: "not a url" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/PORT/);
    expect((error as Error).message).toMatch(/OPENAI_BASE_URL/);
    expect((error as Error).message).not.toContain("\n");
  });

  it("reads the tool settings, and names a bad one", () => {
    expect(parseConfig({})).toMatchObject({
      TOOL_TIMEOUT_MS: 60_000,
      MAX_TOOL_STEPS: 8,
      TOOL_RESULT_CHARS: 20_000,
    });
    expect(parseConfig({ MAX_TOOL_STEPS: "3", TOOL_TIMEOUT_MS: "500" })).toMatchObject({
      MAX_TOOL_STEPS: 3,
      TOOL_TIMEOUT_MS: 500,
    });
    expect(() => parseConfig({ MAX_TOOL_STEPS: "0" })).toThrow(/MAX_TOOL_STEPS/);
    expect(parseConfig({})).toMatchObject({
      MAX_TOOL_CALLS_PER_STEP: 32,
      TOOL_CONCURRENCY: 4,
      MODEL_MAX_EVENT_BYTES: 16 * 1024 * 1024,
    });
    expect(() => parseConfig({ MAX_TOOL_CALLS_PER_STEP: "0" })).toThrow(/MAX_TOOL_CALLS_PER_STEP/);
    expect(() => parseConfig({ TOOL_CONCURRENCY: "0" })).toThrow(/TOOL_CONCURRENCY/);
    expect(() => parseConfig({ MCP_URL: "not a url" })).toThrow(/MCP_URL/);
  });

  it("reads which tools need approval, and how long an approval waits", () => {
    expect(parseConfig({})).toMatchObject({ TOOL_APPROVAL: "none", APPROVAL_TIMEOUT_MS: 300_000 });
    expect(parseConfig({ TOOL_APPROVAL: "all" }).TOOL_APPROVAL).toBe("all");
    expect(parseConfig({ TOOL_APPROVAL: " write_file, send_mail ," }).TOOL_APPROVAL).toEqual([
      "write_file",
      "send_mail",
    ]);
    expect(() => parseConfig({ APPROVAL_TIMEOUT_MS: "0" })).toThrow(/APPROVAL_TIMEOUT_MS/);
  });
});

describe("parseConfig: access and limits", () => {
  it("reads comma-separated keys and origins, dropping blanks", () => {
    const config = parseConfig({
      BROOK_API_KEYS: " one, two ,,",
      CORS_ORIGINS: "https://a.example/, http://localhost:5173",
    });
    expect(config.BROOK_API_KEYS).toEqual(["one", "two"]);
    expect(config.CORS_ORIGINS).toEqual(["https://a.example", "http://localhost:5173"]);
    expect(parseConfig({}).BROOK_API_KEYS).toEqual([]);
  });

  it("refuses an origin with a path and a flag that is not a boolean", () => {
    expect(() => parseConfig({ CORS_ORIGINS: "https://a.example/app" })).toThrow(/CORS_ORIGINS/);
    expect(() => parseConfig({ LOG_CONTENT: "maybe" })).toThrow(/LOG_CONTENT/);
    expect(parseConfig({ LOG_CONTENT: "true" }).LOG_CONTENT).toBe(true);
    expect(parseConfig({}).LOG_CONTENT).toBe(false);
  });

  it("caps runs per key at half of MAX_CONCURRENT_RUNS when keys share the instance, as set otherwise", () => {
    expect(runsPerKeyCap(parseConfig({ BROOK_API_KEYS: "a,b" }))).toBe(128);
    expect(
      runsPerKeyCap(parseConfig({ BROOK_API_KEYS: "a", BROOK_ADMIN_KEYS: "root", MAX_CONCURRENT_RUNS: "5" })),
    ).toBe(3);
    expect(runsPerKeyCap(parseConfig({ BROOK_API_KEYS: "a" }))).toBe(0);
    expect(runsPerKeyCap(parseConfig({}))).toBe(0);
    expect(runsPerKeyCap(parseConfig({ BROOK_API_KEYS: "a,b", MAX_RUNS_PER_KEY: "7" }))).toBe(7);
    expect(runsPerKeyCap(parseConfig({ BROOK_API_KEYS: "a,b", MAX_CONCURRENT_RUNS: "0" }))).toBe(0);
    expect(parseConfig({}).MAX_BATCH_SIZE).toBe(20);
    expect(() => parseConfig({ MAX_BATCH_SIZE: "0" })).toThrow(/MAX_BATCH_SIZE/);
    expect(() => parseConfig({ MAX_RUNS_PER_KEY: "-1" })).toThrow(/MAX_RUNS_PER_KEY/);
  });
});

describe("parseConfig: WORKERS", () => {
  it("runs one process by default, a number of workers as set, and one per core with auto", () => {
    const redis = { REDIS_URL: "redis://127.0.0.1:6379" };
    expect(parseConfig({}).WORKERS).toBe(1);
    expect(parseConfig({ ...redis, WORKERS: "4" }).WORKERS).toBe(4);
    expect(parseConfig({ ...redis, WORKERS: "auto" }).WORKERS).toBe(availableParallelism());
    for (const bad of ["0", "1.5", "many", "2000"]) expect(() => parseConfig({ WORKERS: bad })).toThrow(/WORKERS/);
  });

  it("refuses several workers without REDIS_URL in one line naming both, demo mode included", () => {
    expect(parseConfig({ WORKERS: "1" }).WORKERS).toBe(1);
    for (const env of [{ WORKERS: "2" }, { WORKERS: "2", OPENAI_API_KEY: "sk-test" }]) {
      let error: unknown;
      try {
        parseConfig(env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^Invalid configuration: WORKERS: 2 workers need REDIS_URL/);
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
