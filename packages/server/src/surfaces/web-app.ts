import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ConfigError } from "../config/config-error.js";

/** Where the workspace builds the web UI (`pnpm build`), from src/http or dist/http alike. */
const workspaceWebDir = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

/**
 * The folder of the built web UI: `WEB_DIR`, else the workspace's build when there is one.
 * Undefined means no UI: `GET /` answers JSON only.
 */
export function findWebDir(configured: string | undefined): string | undefined {
  if (configured !== undefined) {
    if (!existsSync(join(configured, "index.html"))) {
      throw new ConfigError("WEB_DIR", `no index.html in ${configured}`);
    }
    return configured;
  }
  return existsSync(join(workspaceWebDir, "index.html")) ? workspaceWebDir : undefined;
}

export interface WebApp {
  /** True when the request comes from a browser asking for a page. */
  wantsPage(request: FastifyRequest): boolean;
  sendPage(reply: FastifyReply): Promise<FastifyReply>;
}

/** Serves the UI's hashed assets under `/assets/`; the page itself is sent by `GET /`. */
export async function registerWebApp(app: FastifyInstance, webDir: string): Promise<WebApp> {
  await app.register(fastifyStatic, {
    root: join(webDir, "assets"),
    prefix: "/assets/",
    index: false,
    // The build writes a .br and a .gz beside each script and style sheet: browsers that accept
    // them get those (with `vary: accept-encoding`), others the file itself.
    preCompressed: true,
    // File names carry a content hash: a new build has new names.
    immutable: true,
    maxAge: "365d",
  });
  return {
    wantsPage: (request) => request.headers.accept?.includes("text/html") === true,
    // Read on each request, so a rebuilt UI is served without a restart; never cached (it names the assets).
    sendPage: async (reply) =>
      reply
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-cache")
        .send(await readFile(join(webDir, "index.html"))),
  };
}
