import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ConfigInput, createBrook, parseConfig } from "@brook/server";
import { describe, expect, it } from "vitest";
import { streamEvents, until } from "./support/brook-harness.js";
import { startFakeUpstream } from "./support/fake-upstream.js";
import { freePort } from "./support/free-port.js";
import { health, toolCallDeltas, toolEvents, toolNames, untilConnected } from "./support/mcp-harness.js";
import { afterThisTest } from "./support/per-test.js";
import { fake } from "./support/sse-text.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const stdioEntry = fileURLToPath(new URL("./support/mcp-test-server-stdio.ts", import.meta.url));
const httpEntry = fileURLToPath(new URL("./support/mcp-test-server-http.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx/esm")).href;

type Env = { [K in keyof ConfigInput]?: string };

/** A Brook in front of a fake model server, its warnings collected; closed after the test. */
async function brookWithLog(env: Env) {
  const upstream = await startFakeUpstream();
  afterThisTest(() => upstream.close());
  const lines: { level: number; msg: string }[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  const brook = await createBrook(
    parseConfig({
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: upstream.url,
      OPENAI_MAX_RETRIES: "0",
      HOST: "127.0.0.1",
      DRAIN_TIMEOUT_MS: "0",
      ...env,
    }),
    { logStream },
  );
  afterThisTest(() => brook.close());
  const url = await brook.listen(0);
  return { url, warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg) };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "brook-mcp-loss-"));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The calls the server wrote down, as `[name, pid]`. */
async function callsIn(file: string): Promise<[string, number][]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [name = "", pid = "0"] = line.split(" ");
      return [name, Number(pid)];
    });
}

function asking(name: string, args: string): string {
  return `go ${fake({ toolCallDeltas: toolCallDeltas([{ id: "call_1", name, arguments: args }]) })}`;
}

/** The test MCP server over HTTP in its own process, on `port`; killed after the test. */
async function httpServerProcess(port: number, callLog: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", tsx, httpEntry], {
    cwd: root,
    env: { ...process.env, PORT: String(port), MCP_TEST_CALL_LOG: callLog },
    stdio: ["ignore", "pipe", "inherit"],
  });
  afterThisTest(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  });
  await once(child.stdout, "data");
  return child;
}

describe("an MCP server that goes away during a call", () => {
  it("stdio, killed mid-call: one error result saying so, the tool not run again, the exit in the log", async () => {
    const dir = await tempDir();
    const callLog = join(dir, "calls.txt");
    const servers = join(dir, "mcp.json");
    await writeFile(
      servers,
      JSON.stringify({
        mcpServers: {
          local: {
            command: process.execPath,
            args: ["--import", tsx, stdioEntry],
            env: { MCP_TEST_CALL_LOG: callLog },
          },
        },
      }),
    );
    const { url, warnings } = await brookWithLog({ MCP_SERVERS: servers, MCP_RETRY_MAX_MS: "200" });
    await untilConnected(url, 30_000);

    const running = streamEvents(url, { message: asking("slow", '{"ms":30000}') });
    await until(async () => (await callsIn(callLog)).length === 1, 15_000);
    const [[, pid] = ["", 0]] = await callsIn(callLog);
    process.kill(pid, "SIGKILL");
    const events = await running;

    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: "slow", is_error: true });
    const text = results[0]?.type === "tool_result" ? results[0].result : "";
    expect(text).toContain('The MCP server "local" went away during the call');
    expect(text).toContain("killed by SIGKILL");
    expect(text).toContain("not repeated");
    expect(events.at(-1)?.type).toBe("complete");

    // Brook starts the server again, and the call was not sent to it.
    await untilConnected(url, 30_000);
    expect((await callsIn(callLog)).map(([name]) => name)).toEqual(["slow"]);
    const lost = warnings().filter((line) => line.includes("went away"));
    expect(lost).toEqual([
      'MCP server "local" went away (the process was killed by SIGKILL); reconnecting in the background.',
    ]);

    // A server that exits on its own: its exit code and its last words, not its start-up banner.
    const crashed = await streamEvents(url, { message: asking("crash", "{}") });
    expect(toolEvents(crashed)[1]).toMatchObject({ name: "crash", is_error: true });
    await until(() => warnings().filter((line) => line.includes("went away")).length === 2);
    const exited = warnings().filter((line) => line.includes("went away"))[1];
    expect(exited).toBe(
      'MCP server "local" went away (the process exited with code 3; its stderr ends: crash: giving up on purpose); reconnecting in the background.',
    );
    expect(exited).not.toContain("running on stdio");
    expect((await callsIn(callLog)).map(([name]) => name)).toEqual(["slow", "crash"]);
  }, 60_000);

  it("HTTP, killed mid-call: the call fails at once, /health and /tools say unavailable, then it comes back", async () => {
    const dir = await tempDir();
    const callLog = join(dir, "calls.txt");
    const port = await freePort();
    const server = await httpServerProcess(port, callLog);
    const { url } = await brookWithLog({
      MCP_URL: `http://127.0.0.1:${port}/mcp`,
      MCP_RETRY_MAX_MS: "200",
      TOOL_TIMEOUT_MS: "60000",
    });
    await untilConnected(url);
    expect(await toolNames(url)).toContain("slow");

    const running = streamEvents(url, { message: asking("slow", '{"ms":50000}') });
    await until(async () => (await callsIn(callLog)).length === 1, 10_000);
    const killedAt = performance.now();
    server.kill("SIGKILL");
    const events = await running;
    // Well before the tool's 60 s timeout (and its 50 s sleep).
    expect(performance.now() - killedAt).toBeLessThan(10_000);
    const results = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: "slow", is_error: true });
    expect(results[0]?.type === "tool_result" ? results[0].result : "").toContain(
      'The MCP server "mcp" went away during the call',
    );
    expect(events.at(-1)?.type).toBe("complete");

    const [down] = (await health(url)).mcp_servers;
    expect(down).toMatchObject({ status: "unavailable", tool_count: 0, last_error: expect.any(String) });
    expect(await toolNames(url)).toEqual([]);

    await httpServerProcess(port, callLog);
    await untilConnected(url, 15_000);
    expect(await toolNames(url)).toContain("slow");
    const answered = await streamEvents(url, { message: asking("echo", '{"text":"back"}') });
    expect(toolEvents(answered)[1]).toMatchObject({ result: "echo: back", is_error: false });
    expect((await callsIn(callLog)).map(([name]) => name)).toEqual(["slow", "echo"]);
  }, 60_000);

  it("HTTP, frozen: the ping on an interval notices it, fails the call in flight, and sees it come back", async () => {
    const dir = await tempDir();
    const callLog = join(dir, "calls.txt");
    const port = await freePort();
    const server = await httpServerProcess(port, callLog);
    const { url } = await brookWithLog({
      MCP_URL: `http://127.0.0.1:${port}/mcp`,
      MCP_RETRY_MAX_MS: "200",
      MCP_PING_INTERVAL_MS: "500",
      TOOL_TIMEOUT_MS: "60000",
    });
    await untilConnected(url);

    const running = streamEvents(url, { message: asking("slow", '{"ms":50000}') });
    await until(async () => (await callsIn(callLog)).length === 1, 10_000);
    // Stopped, not killed: its connections stay open, only pings tell that it no longer answers.
    server.kill("SIGSTOP");
    afterThisTest(() => server.kill("SIGCONT"));
    const events = await running;
    const [result] = toolEvents(events).filter((event) => event.type === "tool_result");
    expect(result?.type === "tool_result" ? result.result : "").toMatch(
      /went away during the call \(it stopped answering/,
    );
    expect((await health(url)).mcp_servers[0]).toMatchObject({ status: "unavailable", tool_count: 0 });
    expect(await toolNames(url)).toEqual([]);

    server.kill("SIGCONT");
    await untilConnected(url, 15_000);
    expect(await toolNames(url)).toContain("slow");
  }, 60_000);
});
