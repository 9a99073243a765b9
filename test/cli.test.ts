import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatEvent, Health, Stats } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { runBrookCli, spawnBrookCli } from "./support/brook-cli.js";
import { streamEvents, until } from "./support/brook-harness.js";
import { freePort } from "./support/free-port.js";
import { toolCallDeltas, untilConnected } from "./support/mcp-harness.js";
import { startMcpTestServer } from "./support/mcp-test-server.js";
import { afterThisTest, harness } from "./support/per-test.js";
import { spawnServer } from "./support/server-process.js";

const summaryLine =
  /^gpt-4o-mini · tokens \d+ in \/ \d+ out · cost \$[\d.]+ · ttft \d+ ms · duration [\d.]+ m?s · [\d.]+ tokens\/s$/m;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes
const ansi = /\u001b\[/;

/** A loopback URL where nothing listens. */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** The last user message the fake upstream received. */
function lastUserMessage(body: { messages: { role: string; content: string }[] }): string | undefined {
  return body.messages.findLast((message) => message.role === "user")?.content;
}

describe("brook chat", { timeout: 60_000 }, () => {
  it("streams the answer to stdout as it arrives, then prints usage and timing to stderr", async () => {
    const { url } = await harness({}, { tokens: 6, delayMs: 150 });
    const cli = spawnBrookCli(["chat", "--url", url, "Count", "for", "me"]);
    let finished = false;
    void cli.exited.then(() => {
      finished = true;
    });

    await cli.waitForStdout("tok1");
    // The first tokens are on screen while the model is still producing the rest.
    expect(finished).toBe(false);
    expect(cli.stdout()).not.toContain("tok5");

    expect((await cli.exited).code).toBe(0);
    expect(cli.stdout()).toBe("tok0 tok1 tok2 tok3 tok4 tok5\n");
    expect(cli.stdoutChunks.length).toBeGreaterThan(2);
    expect(cli.stderr()).toMatch(summaryLine);
    expect(cli.stderr()).toContain("/ 6 out");
    // Not a terminal: no colour codes.
    expect(cli.stderr()).not.toMatch(ansi);
  });

  it("prints every event as one JSON line with --json, ending with complete", async () => {
    const { url } = await harness({}, { text: "Raw events for scripts." });
    const result = await runBrookCli(["chat", "--json", "--url", url, "hello"]);

    expect(result.code).toBe(0);
    const events = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => ChatEvent.parse(JSON.parse(line)));
    expect(events[0]?.type).toBe("start");
    expect(events.at(-1)?.type).toBe("complete");
    expect(events.map((event) => (event.type === "content" ? event.chunk : "")).join("")).toBe(
      "Raw events for scripts.",
    );
    expect(result.stderr).toBe("");
  });

  it("sends --system, --model, --temperature and --max-tokens to the model, and --api-key to Brook", async () => {
    const { url, upstream, brook } = await harness();
    const authorizations: (string | undefined)[] = [];
    const record = (request: { headers: { authorization?: string } }) =>
      authorizations.push(request.headers.authorization);
    brook.app.server.on("request", record);
    afterThisTest(() => brook.app.server.off("request", record));

    const result = await runBrookCli(
      ["chat", "-s", "You are terse.", "--model", "tiny-model", "--temperature", "0.3", "--max-tokens", "42", "hi"],
      { env: { BROOK_URL: url, BROOK_API_KEY: "secret-key" } },
    );

    expect(result.code).toBe(0);
    expect(upstream.requests).toHaveLength(1);
    const body = upstream.requests[0]?.body;
    expect(body.messages[0]).toEqual({ role: "system", content: "You are terse." });
    expect(lastUserMessage(body)).toBe("hi");
    expect(body).toMatchObject({ model: "tiny-model", temperature: 0.3, max_tokens: 42 });
    expect(result.stderr).toMatch(/^tiny-model · tokens/m);
    expect(authorizations.length).toBeGreaterThan(0);
    expect(authorizations.every((value) => value === "Bearer secret-key")).toBe(true);
  });

  it("reads the message from stdin when none is given, or in place of '-'", async () => {
    const { url, upstream } = await harness();
    const piped = await runBrookCli(["chat", "--url", url], { stdin: "a question from a pipe\n" });
    expect(piped.code).toBe(0);
    expect(lastUserMessage(upstream.requests[0]?.body)).toBe("a question from a pipe");

    const combined = await runBrookCli(["chat", "--url", url, "Review this:", "-"], { stdin: "diff --git a b\n" });
    expect(combined.code).toBe(0);
    expect(lastUserMessage(upstream.requests[1]?.body)).toBe("Review this:\n\ndiff --git a b");

    const empty = await runBrookCli(["chat", "--url", url], { stdin: "  \n" });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("the message read from stdin is empty");
    expect(upstream.requests).toHaveLength(2);
  });

  it("cancels the run on Ctrl-C: the model call is aborted, the partial answer kept, exit code 130", async () => {
    // A long grace period: only the cancellation, not an abandoned reader, can end the model call.
    const { url, upstream } = await harness(
      { RUN_GRACE_MS: "600000" },
      { chunks: ["Partial", " answer"], hangAfter: 2 },
    );
    const cli = spawnBrookCli(["chat", "--url", url, "Tell me a long story"]);
    await cli.waitForStdout("Partial answer");
    expect(upstream.openStreams()).toBe(1);

    cli.child.kill("SIGINT");

    expect((await cli.exited).code).toBe(130);
    expect(cli.stdout()).toBe("Partial answer\n");
    expect(cli.stderr()).toContain("Interrupted: the run was cancelled.");
    await until(() => upstream.abortedCount() === 1 && upstream.openStreams() === 0);
  });

  it("cancels the run quietly when the reader of its output goes away (| head)", async () => {
    const { url, upstream } = await harness({ RUN_GRACE_MS: "600000" }, { tokens: 1000, delayMs: 50 });
    const cli = spawnBrookCli(["chat", "--url", url, "Go on and on"]);
    await cli.waitForStdout("tok0");
    cli.child.stdout?.destroy();

    expect((await cli.exited).code).toBe(0);
    expect(cli.stderr()).toBe("");
    await until(() => upstream.abortedCount() === 1 && upstream.openStreams() === 0);
  });

  it("reports an error event on stderr with its code and exits 1", async () => {
    const { url } = await harness({}, { status: 400, errorMessage: "The model `nope` does not exist" });
    const result = await runBrookCli(["chat", "--url", url, "--model", "nope", "hi"]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error upstream_bad_request: .+/m);
    expect(result.stderr).toMatch(/tokens 0 in \/ 0 out/);

    const json = await runBrookCli(["chat", "--json", "--url", url, "hi"]);
    expect(json.code).toBe(1);
    const last = ChatEvent.parse(JSON.parse(json.stdout.trimEnd().split("\n").at(-1) ?? ""));
    expect(last).toMatchObject({ type: "error", code: "upstream_bad_request" });
  });

  it("keeps a cut-off answer and reports it as incomplete, not complete", async () => {
    const { url } = await harness({}, { chunks: ["Half", " an", " answer"], cutAfter: 2 });
    const result = await runBrookCli(["chat", "--url", url, "hi"]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("Half an\n");
    expect(result.stderr).toMatch(/^error upstream_incomplete: .+\(retryable/m);
  });

  it("rejects invalid values before sending anything, naming the option", async () => {
    const { url, upstream } = await harness();
    const result = await runBrookCli(["chat", "--url", url, "--temperature", "9", "hi"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^brook: --temperature: .*2/m);
    expect(result.stderr).toContain("Run 'brook chat --help' for usage.");

    const notNumber = await runBrookCli(["chat", "--url", url, "--max-tokens", "many", "hi"]);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain("--max-tokens: 'many' is not a number");
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("brook chat --schema", { timeout: 60_000 }, () => {
  const schema = {
    type: "object",
    properties: { title: { type: "string" }, minutes: { type: "integer" } },
    required: ["title", "minutes"],
  };
  /** A file in a folder removed after the test. */
  function file(name: string, text: string): string {
    const folder = mkdtempSync(join(tmpdir(), "brook-cli-schema-"));
    afterThisTest(() => rmSync(folder, { recursive: true, force: true }));
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
  }

  it("prints the final object as JSON on stdout, the streaming text on stderr", async () => {
    const { url, upstream } = await harness();
    const result = await runBrookCli([
      "chat",
      "--url",
      url,
      "--schema",
      file("recipe.json", JSON.stringify(schema)),
      "A recipe",
    ]);
    expect(result.code).toBe(0);
    const object = { title: 'the title "quoted", then more words', minutes: 12345 };
    expect(result.stdout).toBe(`${JSON.stringify(object, null, 2)}\n`);
    expect(result.stderr).toContain('"minutes":12345');
    expect(result.stderr).toMatch(summaryLine);
    expect(upstream.requests[0]?.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema },
    });
  });

  it("reports an answer that does not match as invalid_output and exits 1", async () => {
    const { url } = await harness({}, { text: '{"title": 7}' });
    const result = await runBrookCli([
      "chat",
      "--url",
      url,
      "--schema",
      file("recipe.json", JSON.stringify(schema)),
      "hi",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error invalid_output: .*\/title must be string/m);
  });

  it("names --schema when the file is missing or not JSON, and output.schema when it is no object schema", async () => {
    const { url, upstream } = await harness();
    const missing = await runBrookCli(["chat", "--url", url, "--schema", join(tmpdir(), "no-such-schema.json"), "hi"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^brook: --schema: cannot read .*no-such-schema\.json \(ENOENT\)/m);
    const notJson = await runBrookCli(["chat", "--url", url, "--schema", file("bad.json", "{ title"), "hi"]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^brook: --schema: .*bad\.json is not JSON/m);
    const array = await runBrookCli(["chat", "--url", url, "--schema", file("list.json", '{"type":"array"}'), "hi"]);
    expect(array.code).not.toBe(0);
    expect(array.stderr).toContain("output.schema");
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("brook chat with MCP tools", { timeout: 60_000 }, () => {
  /** A Brook whose model calls `add` and the always failing `fail` from a real MCP server, then answers with the results. */
  async function brookWithTools() {
    const mcp = await startMcpTestServer();
    afterThisTest(() => mcp.close());
    const started = await harness({ MCP_URL: mcp.url });
    await untilConnected(started.url);
    const askForTools = () =>
      started.upstream.enqueue({
        toolCallDeltas: toolCallDeltas([
          { name: "add", arguments: '{"a":2,"b":3}' },
          { name: "fail", arguments: "{}" },
        ]),
      });
    return { ...started, mcp, askForTools };
  }

  it("shows each tool call and its result on stderr, and the answer that uses them on stdout", async () => {
    const { url, mcp, askForTools } = await brookWithTools();
    askForTools();
    const result = await runBrookCli(["chat", "--url", url, "Add 2 and 3, then try the failing tool"]);

    expect(result.code).toBe(0);
    expect(mcp.log.calls.map((call) => call.name).sort()).toEqual(["add", "fail"]);
    // The model's second turn saw the results (the fake model repeats what the tools said).
    expect(result.stdout).toMatch(/^Tool said: 5 \| .*the disk is on fire.*\n$/);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toContain('⚙ add {"a":2,"b":3}');
    expect(lines).toContain("⚙ fail {}");
    expect(lines).toContain("↳ add 5");
    expect(lines.find((line) => line.startsWith("✗ fail failed: "))).toContain("the disk is on fire");
    // Each call comes before its result, and the usage summary last.
    expect(lines.indexOf('⚙ add {"a":2,"b":3}')).toBeLessThan(lines.indexOf("↳ add 5"));
    expect(lines.indexOf("⚙ fail {}")).toBeLessThan(lines.findIndex((line) => line.startsWith("✗ fail")));
    expect(lines.at(-1)).toMatch(summaryLine);
    // Nothing about the tools leaks into the answer.
    expect(result.stdout).not.toMatch(/⚙|↳|✗/);
  });

  it("prints tool_call then tool_result events with --json", async () => {
    const { url, askForTools } = await brookWithTools();
    askForTools();
    const result = await runBrookCli(["chat", "--json", "--url", url, "Add 2 and 3, then try the failing tool"]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const events = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => ChatEvent.parse(JSON.parse(line)));
    const types = events.map((event) => event.type);
    expect(types[0]).toBe("start");
    expect(types.at(-1)).toBe("complete");
    const calls = events.filter((event) => event.type === "tool_call");
    const results = events.filter((event) => event.type === "tool_result");
    expect(calls.map((call) => [call.name, call.arguments])).toEqual([
      ["add", '{"a":2,"b":3}'],
      ["fail", "{}"],
    ]);
    expect(results.map((each) => [each.name, each.is_error]).sort()).toEqual([
      ["add", false],
      ["fail", true],
    ]);
    expect(results.find((each) => each.name === "add")?.result).toBe("5");
    // Every result follows its call (matched by id), and the answer comes after all of them.
    for (const each of results) {
      const call = events.findIndex((event) => event.type === "tool_call" && event.id === each.id);
      expect(call).toBeGreaterThan(-1);
      expect(call).toBeLessThan(events.indexOf(each));
    }
    const firstContent = types.indexOf("content");
    expect(firstContent).toBeGreaterThan(Math.max(...results.map((each) => events.indexOf(each))));
    expect(events.map((event) => (event.type === "content" ? event.chunk : "")).join("")).toMatch(/^Tool said: 5 \| /);
  });
});

describe("brook and the server's port", { timeout: 60_000 }, () => {
  it("follows PORT as `PORT=… pnpm start` sets it, and BROOK_URL wins over it", async () => {
    const port = String(await freePort());
    const server = spawnServer({ PORT: port, HOST: "127.0.0.1", DEMO_TOKEN_DELAY_MS: "0" });
    afterThisTest(async () => {
      server.child.kill("SIGKILL");
      await server.exited;
    });
    await server.waitFor(new RegExp(`127\\.0\\.0\\.1:${port}`));

    const chat = await runBrookCli(["chat", "Hello on another port"], { env: { PORT: port } });
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain("demo mode");
    const health = await runBrookCli(["health"], { env: { PORT: port } });
    expect(health.stdout).toContain(`at http://127.0.0.1:${port}`);

    const elsewhere = await closedUrl();
    const wins = await runBrookCli(["health"], { env: { PORT: port, BROOK_URL: elsewhere } });
    expect(wins.code).not.toBe(0);
    expect(wins.stderr).toContain(elsewhere);
  });
});

describe("brook health and stats", { timeout: 60_000 }, () => {
  it("shows the server's health, as text or as JSON", async () => {
    const { url } = await harness();
    const text = await runBrookCli(["health"], { env: { BROOK_URL: url } });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^status\s+ok · Brook \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text.stdout).toMatch(/^mode\s+openai$/m);
    expect(text.stdout).toMatch(/^model\s+gpt-4o-mini$/m);
    expect(text.stdout).toMatch(/^active runs\s+0$/m);

    const json = await runBrookCli(["health", "--json", "--url", url]);
    expect(json.code).toBe(0);
    expect(Health.parse(JSON.parse(json.stdout))).toMatchObject({ status: "ok", mode: "openai" });
  });

  it("shows requests, tokens, cost and per-model totals", async () => {
    const { url } = await harness({}, { usage: { prompt_tokens: 1200, completion_tokens: 34 } });
    await streamEvents(url, { message: "count me" });

    const text = await runBrookCli(["stats", "--url", url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^requests\s+1 total · 1 streaming · 0 non-streaming$/m);
    expect(text.stdout).toMatch(/^outcomes\s+1 succeeded · 0 failed · 0 cancelled · 0 active$/m);
    expect(text.stdout).toMatch(/^tokens\s+1,200 in · 34 out · 1,234 total$/m);
    expect(text.stdout).toMatch(/^gpt-4o-mini\s+1\s+1,200\s+34\s+\$0\.\d+$/m);

    const json = await runBrookCli(["stats", "--json", "--url", url]);
    expect(Stats.parse(JSON.parse(json.stdout)).tokens).toEqual({
      input: 1200,
      output: 34,
      total: 1234,
      cached_input: 0,
      reasoning: 0,
    });
  });

  it("says so when the URL is not a Brook server", async () => {
    const { upstream } = await harness();
    const notBrook = upstream.url.replace(/\/v1$/, "");
    const result = await runBrookCli(["health", "--url", notBrook]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^brook: ${notBrook} does not answer like a Brook server \\(.+\\)\\n$`));
  });

  it("says clearly when the server cannot be reached, without a stack trace", async () => {
    const url = await closedUrl();
    const results = await Promise.all(
      [["health"], ["stats"], ["chat", "hi"]].map((args) => runBrookCli([...args, "--url", url])),
    );
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`brook: cannot reach Brook at ${url} (ECONNREFUSED)\n`);
    }
  });
});

describe("brook usage", { timeout: 60_000 }, () => {
  it("answers --help and --version", async () => {
    const help = await runBrookCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("brook chat [options] [message...]");
    expect(help.stdout).toContain("130 interrupted");

    const chatHelp = await runBrookCli(["chat", "--help"]);
    expect(chatHelp.stdout).toContain("--system <text>");

    const version = await runBrookCli(["--version"]);
    const manifest = JSON.parse(readFileSync(new URL("../packages/client/package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(version).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: "" });
  });

  it("runs as `pnpm brook` from the workspace root, without a build", async () => {
    const { url } = await harness({}, { text: "Through the workspace script." });
    const root = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn("pnpm", ["--silent", "brook", "chat", "--url", url, "hi"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    const [code] = (await once(child, "close")) as [number | null];
    expect(code).toBe(0);
    expect(stdout).toBe("Through the workspace script.\n");
  });

  it("exits 2 with a usage hint for unknown commands, unknown or misplaced options and missing values", async () => {
    const cases: [string[], string][] = [
      [[], "brook: no command given"],
      [["frobnicate"], "brook: unknown command 'frobnicate'"],
      [["chat", "--bogus", "hi"], "brook: unknown option '--bogus'"],
      [["health", "--system", "x"], "brook: option '--system' does not apply to 'health'"],
      [["chat", "hi", "--model"], "brook: option '--model' needs a value"],
      [["stats", "extra"], "brook: 'stats' takes no arguments"],
      [["health", "--url", "localhost:8081"], "must be an http:// or https:// URL"],
    ];
    const results = await Promise.all(cases.map(([args]) => runBrookCli(args)));
    for (const [index, [args, message]] of cases.entries()) {
      const result = results[index]!;
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toMatch(/Run 'brook( \w+)? --help' for usage\.\n$/);
      expect(result.stdout).toBe("");
    }
  });
});
