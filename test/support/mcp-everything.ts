/**
 * The reference MCP server, `@modelcontextprotocol/server-everything`, over Streamable HTTP
 * on a free loopback port, in a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { freePort } from "./free-port.js";

export interface EverythingServer {
  /** e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  close(): Promise<void>;
}

const entry = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js");

/** Starts it; a port taken between choosing and listening is retried with another. */
export async function startEverythingServer(): Promise<EverythingServer> {
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    // It prints its environment through a tool: start it with nothing secret in it.
    const child = spawn(process.execPath, [entry, "streamableHttp"], {
      env: { PATH: process.env.PATH ?? "", PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const listening = await waitForListening(child);
    if (listening) {
      return {
        url: `http://127.0.0.1:${port}/mcp`,
        close: () => stop(child),
      };
    }
    if (attempt >= 3) throw new Error("server-everything did not start");
  }
}

function waitForListening(child: ChildProcess): Promise<boolean> {
  return new Promise((resolve) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill();
      resolve(false);
    }, 15_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("listening on port")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
