import { createRequire } from "node:module";
import { dirname } from "node:path";
import { routes } from "@brook/shared";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { openAPIDocument } from "./openapi-document.js";

export interface OpenAPIPluginOptions {
  /** Brook's version, the document's too. */
  version: string;
  /** API keys are on: keyed routes carry the bearer scheme, and `/docs` asks for a key. */
  keysRequired: boolean;
}

/** Swagger UI's files, served by Brook itself (no network needed). */
const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const swaggerFiles = new Set(["/swagger-ui.css", "/swagger-ui-bundle.js"]);

/** The page's rules: its scripts and styles come from Brook, and it talks to Brook only (icons are `data:` URLs). */
const docsPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * `GET /openapi.json`: the OpenAPI document, generated from the route list and the shared schemas
 * when first asked for. `GET /docs`: Swagger UI over it, able to send requests (with a key when keys
 * are on). Both are open, as `/health` is: they describe the routes and hold nothing of a key.
 */
export async function openAPIPlugin(app: FastifyInstance, options: OpenAPIPluginOptions): Promise<void> {
  app.get(routes.openapi.path, async (_request, reply) =>
    reply.type("application/json; charset=utf-8").header("cache-control", "no-cache").send(documentText(options)),
  );

  app.get(routes.docs.path, async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", docsPolicy)
      .send(docsPage),
  );
  app.get(`${routes.docs.path}/brook-docs.js`, async (_request, reply) =>
    reply.type("text/javascript; charset=utf-8").header("cache-control", "no-cache").send(docsScript),
  );
  await app.register(fastifyStatic, {
    root: swaggerDir,
    prefix: `${routes.docs.path}/`,
    // The web UI's static files decorate the reply already.
    decorateReply: false,
    index: false,
    allowedPath: (path) => swaggerFiles.has(path),
    maxAge: "1d",
  });
}

/**
 * The document as JSON, made once per process and kind (keys on or off): making it takes a tenth
 * of a second or more, which start-up (and each worker's) need not pay.
 */
const documents = new Map<string, string>();
function documentText({ version, keysRequired }: OpenAPIPluginOptions): string {
  const kind = `${version} ${keysRequired}`;
  let text = documents.get(kind);
  if (text === undefined) {
    text = JSON.stringify(openAPIDocument({ version, keysRequired }));
    documents.set(kind, text);
  }
  return text;
}

const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Brook API reference</title>
    <link rel="stylesheet" href="${routes.docs.path}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${routes.docs.path}/swagger-ui-bundle.js"></script>
    <script src="${routes.docs.path}/brook-docs.js"></script>
  </body>
</html>
`;

/** Swagger UI's start: the document from Brook, requests tried at once, no validator elsewhere. */
const docsScript = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(routes.openapi.path)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
  persistAuthorization: true,
  displayRequestDuration: true,
  tryItOutEnabled: true,
});
`;
