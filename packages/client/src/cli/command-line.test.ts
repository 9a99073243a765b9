import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./command-line.js";
import { UsageError } from "./exit-codes.js";

describe("parseCommandLine", () => {
  it("takes the URL and API key from the environment unless given as options", () => {
    const env = { BROOK_URL: "http://brook.internal:9000/", BROOK_API_KEY: "from-env" };
    expect(parseCommandLine(["health"], env)).toMatchObject({
      kind: "command",
      options: { url: "http://brook.internal:9000", apiKey: "from-env" },
    });
    expect(parseCommandLine(["health", "--url", "https://b.example", "--api-key", "k"], env)).toMatchObject({
      options: { url: "https://b.example", apiKey: "k" },
    });
    expect(parseCommandLine(["stats"], {})).toMatchObject({
      options: { url: "http://127.0.0.1:8081", apiKey: undefined, json: false },
    });
  });

  it("follows PORT, as the server does, unless BROOK_URL or --url says where Brook is", () => {
    expect(parseCommandLine(["health"], { PORT: "9000" })).toMatchObject({
      options: { url: "http://127.0.0.1:9000" },
    });
    expect(parseCommandLine(["health"], { PORT: "9000", BROOK_URL: "http://brook.internal:7000" })).toMatchObject({
      options: { url: "http://brook.internal:7000" },
    });
    expect(parseCommandLine(["health", "--url", "http://127.0.0.1:7001"], { PORT: "9000" })).toMatchObject({
      options: { url: "http://127.0.0.1:7001" },
    });
    expect(parseCommandLine(["health"], { PORT: "", BROOK_URL: "" })).toMatchObject({
      options: { url: "http://127.0.0.1:8081" },
    });
    expect(() => parseCommandLine(["health"], { PORT: "http://x" })).toThrow(
      "PORT: 'http://x' is not a port number (1 to 65535); set BROOK_URL instead",
    );
    expect(() => parseCommandLine(["health"], { PORT: "70000" })).toThrow(/PORT/);
  });

  it("passes the words of a chat, options anywhere and '--' before a message that starts with '-'", () => {
    expect(parseCommandLine(["chat", "why", "-m", "small", "is the sky blue?", "-t", "0.5"], {})).toMatchObject({
      command: "chat",
      words: ["why", "is the sky blue?"],
      options: { model: "small", temperature: 0.5 },
    });
    expect(parseCommandLine(["chat", "--", "-5 degrees?"], {})).toMatchObject({ words: ["-5 degrees?"] });
    expect(parseCommandLine(["chat", "--system="], {})).toMatchObject({ options: { system: "" } });
  });

  it("shows the model's thinking unless --no-reasoning, and passes --reasoning-effort on", () => {
    expect(parseCommandLine(["chat", "hi"], {})).toMatchObject({
      options: { reasoning: true, reasoningEffort: undefined },
    });
    expect(parseCommandLine(["chat", "--no-reasoning", "--reasoning-effort", "high", "hi"], {})).toMatchObject({
      words: ["hi"],
      options: { reasoning: false, reasoningEffort: "high" },
    });
    expect(() => parseCommandLine(["stats", "--no-reasoning"], {})).toThrow(/does not apply to 'stats'/);
  });

  it("routes help and version", () => {
    expect(parseCommandLine(["--version"], {})).toEqual({ kind: "version" });
    expect(parseCommandLine(["-h"], {})).toEqual({ kind: "help", command: undefined });
    expect(parseCommandLine(["chat", "-h"], {})).toEqual({ kind: "help", command: "chat" });
    expect(parseCommandLine(["help", "stats"], {})).toEqual({ kind: "help", command: "stats" });
  });

  it("names what is wrong and the command whose usage to show", () => {
    const failure = (argv: string[], env = {}) => {
      try {
        parseCommandLine(argv, env);
      } catch (error) {
        if (error instanceof UsageError) return { message: error.message, command: error.command };
        throw error;
      }
      throw new Error("no usage error");
    };
    expect(failure(["chat", "--model", "--json"])).toEqual({
      message: "option '--model' needs a value (got one starting with '-'; write --model=VALUE)",
      command: "chat",
    });
    expect(failure(["help", "nope"])).toEqual({ message: "unknown command 'nope'", command: undefined });
    expect(failure(["health"], { BROOK_URL: "nope" })).toEqual({
      message: "BROOK_URL: 'nope' is not a URL (e.g. http://127.0.0.1:8081)",
      command: "health",
    });
  });
});
