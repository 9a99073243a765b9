import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Health } from "@brook/shared";
import { afterEach, describe, expect, it } from "vitest";
import { contentOf, streamEvents } from "./support/brook-harness.js";
import { type ServerProcess, spawnServer } from "./support/server-process.js";

describe("the brook server process", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    server = undefined;
  });

  it("starts in demo mode without a key, says so in its log and in /health, streams, and exits 0 on SIGTERM", async () => {
    server = spawnServer({ PORT: "0", DEMO_TOKEN_DELAY_MS: "1" });
    const line = await server.waitFor(/DEMO MODE/);
    const url = /at (http:\/\/[\d.]+:\d+)/.exec(line)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = Health.parse(await (await fetch(`${url}/health`)).json());
    expect(health).toMatchObject({ mode: "demo", streaming: true, status: "ok" });

    const events = await streamEvents(url as string, { message: "What can you do?" });
    expect(events[0]).toMatchObject({ type: "start", message: "开始生成响应..." });
    const text = contentOf(events);
    expect(text).toContain("demo mode");
    expect(text).toContain("OPENAI_API_KEY");
    const last = events.at(-1);
    expect(last?.type).toBe("complete");
    if (last?.type === "complete") {
      expect(last.full_content).toBe(text);
      expect(last.usage.output_tokens).toBeGreaterThan(10);
    }

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("reads a .env file from its working directory", async () => {
    const directory = mkdtempSync(join(tmpdir(), "brook-env-"));
    writeFileSync(join(directory, ".env"), "PORT=0\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\nOPENAI_MODEL=from-dotenv\n");
    server = spawnServer({}, directory);
    const line = await server.waitFor(/streaming at/);
    expect(line).toContain("from-dotenv");
    expect(line).toContain("http://127.0.0.1:9/v1");
  });

  it("says in one line that its port is in use, naming PORT, and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      server = spawnServer({ PORT: String(port), HOST: "127.0.0.1" });
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(
        new RegExp(`^brook: Invalid configuration: PORT: 127\\.0\\.0\\.1:${port} is already in use`, "m"),
      );
      expect(server.output()).not.toMatch(/EADDRINUSE|at .*:\d+/);
    } finally {
      taken.close();
    }
  });

  it("refuses a bad setting with one line naming the variable and exit code 1", async () => {
    server = spawnServer({ PORT: "not-a-port" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/^brook: Invalid configuration: PORT: /m);
    expect(server.output()).not.toMatch(/at .*\.ts:\d+/);
  });
});
