import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "./conformance/conformance-scenario.js";

// The official MCP conformance suite (pinned in test/package.json), client mode: for each scenario
// it starts a test server and runs the client command with the server's URL. The command hands
// the scenario to the runner below, Brook's MCP connection in this process.
const suite = createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/dist/index.js");
const forwarder = fileURLToPath(new URL("./conformance/forward-scenario.mjs", import.meta.url));
const expectedFailures = fileURLToPath(new URL("./conformance/expected-failures.yaml", import.meta.url));

let runner: Server;
let runnerUrl: string;

beforeAll(async () => {
  runner = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      const { url, scenario, context } = JSON.parse(body) as { url: string; scenario: string; context?: string };
      runScenario(url, scenario, context).then(
        () => response.writeHead(200).end(),
        (error: unknown) => response.writeHead(500).end(`${scenario}: ${String(error)}`),
      );
    });
  });
  runner.listen(0, "127.0.0.1");
  await once(runner, "listening");
  runnerUrl = `http://127.0.0.1:${(runner.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  runner.closeAllConnections();
  await new Promise((resolve) => runner.close(resolve));
});

/** Runs the suite's client command with `args`; resolves with its exit code and output. */
async function conformance(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [suite, "client", "--command", `"${process.execPath}" "${forwarder}"`, ...args],
    {
      env: { ...process.env, BROOK_CONFORMANCE_RUNNER: runnerUrl, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output };
}

/** The summary lines (`✓ scenario: n passed, m failed`) of a run. */
function summary(output: string): string {
  return output
    .split("\n")
    .filter((line) => /^[✓✗] /.test(line))
    .join("\n");
}

describe("the MCP conformance suite against Brook's MCP client", () => {
  it("passes every client scenario the 2025-11-25 revision requires (initialize, tools_call, sse-retry, elicitation defaults, auth), except the documented expected failures", async () => {
    const run = await conformance([
      "--requirements",
      "2025-11-25",
      "--expected-failures",
      expectedFailures,
      "--timeout",
      "60000",
    ]);
    expect(run.output).toContain("Baseline check passed");
    expect(run.code, summary(run.output)).toBe(0);
    for (const scenario of ["initialize", "tools_call", "sse-retry", "elicitation-sep1034-client-defaults"]) {
      expect(run.output).toMatch(new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`));
    }
  }, 300_000);

  it.each(["auth/client-credentials-basic", "auth/client-credentials-jwt"])(
    "passes the client credentials extension's %s scenario",
    async (scenario) => {
      const run = await conformance(["--scenario", scenario, "--timeout", "60000"]);
      expect(run.output).toContain("OVERALL: PASSED");
      expect(run.code, run.output).toBe(0);
    },
    120_000,
  );
});
