import * as shared from "@brook/shared";
import {
  ErrorBody,
  errorCatalogue,
  type RouteContent,
  type RouteMethod,
  type RouteOperation,
  type RouteSpec,
  routes,
} from "@brook/shared";
import { z } from "zod";
import {
  type CreateDocumentOptions,
  createDocument,
  type ZodOpenApiContentObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathItemObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";

export type OpenAPIDocument = ReturnType<typeof createDocument>;
type Status = `${1 | 2 | 3 | 4 | 5}${string}`;

export interface OpenAPIOptions {
  /** Brook's version, the document's too. */
  version: string;
  /** API keys are on (BROOK_API_KEYS): keyed routes carry the bearer scheme. */
  keysRequired: boolean;
  /** The routes described: `@brook/shared`'s list. */
  routeList?: Readonly<Record<string, RouteSpec>>;
}

/**
 * Brook's OpenAPI 3.1 document, generated from the route list of `@brook/shared` (every route with
 * its `schemas`) and its Zod schemas, which become components under their exported names. tRPC
 * (`/trpc`) and the web UI's files are left out: the typed client speaks tRPC.
 */
export function openAPIDocument({ version, keysRequired, routeList = routes }: OpenAPIOptions): OpenAPIDocument {
  const paths: Record<string, ZodOpenApiPathItemObject> = {};
  for (const [name, route] of Object.entries(routeList)) {
    if (!isDescribed(route)) continue;
    const item: ZodOpenApiPathItemObject = {};
    for (const method of Object.keys(route.methods) as RouteMethod[]) {
      item[method === "GET" ? "get" : "post"] = operation(name, method, route, keysRequired);
    }
    paths[openAPIPath(route.path)] = item;
  }
  const document = createDocument(
    {
      openapi: "3.1.1",
      info: {
        title: "Brook",
        version,
        description: [
          "A typed streaming agent service: a message goes to an OpenAI-compatible model (with MCP tools), and the answer streams back.",
          "",
          "- **REST** (`/chat/stream`, `/chat`): Brook's events as Server-Sent Events, or the whole answer as JSON.",
          "- **AI SDK** (`/api/chat`): the UI message stream `useChat` reads.",
          "- **OpenAI-compatible** (`/v1`): any OpenAI client.",
          "",
          "Streams (`text/event-stream`) carry one JSON value per `data:` line, of the schema shown; the AI SDK's and OpenAI's end with `data: [DONE]`.",
          "A REST stream ends with exactly one `complete` or `error` event, both with usage.",
          "Failures answer the route's error body; REST's names a `code` of the error catalogue (see `ErrorCode`).",
          "The typed tRPC API at `/trpc` is not described here: use `@brook/client`.",
        ].join("\n"),
      },
      tags: [
        { name: "Brook", description: "Brook's own routes (REST and Server-Sent Events)." },
        { name: "AI SDK", description: "The AI SDK's UI message stream, for `useChat`." },
        { name: "OpenAI", description: "OpenAI-compatible routes, for any OpenAI client." },
      ],
      paths,
      components: {
        schemas: namedSchemas(),
        ...(keysRequired
          ? {
              securitySchemes: {
                bearer: {
                  type: "http",
                  scheme: "bearer",
                  description: "An API key of BROOK_API_KEYS (an admin key of BROOK_ADMIN_KEYS for admin routes).",
                },
              },
            }
          : {}),
      },
    },
    { override: allowAddedFields } satisfies CreateDocumentOptions,
  );
  describeErrorCodes(document);
  // "Any JSON value" said plainly: Zod's recursive union of every JSON type means the same to a
  // validator, and code generators (TypeScript's) cannot type a union that refers to itself.
  const schemas = document.components?.schemas;
  if (schemas?.JsonValue !== undefined) schemas.JsonValue = { description: "Any JSON value." };
  return withPlainNames(withoutUnusedSchemas(document));
}

/** Every route a client calls: not tRPC (the typed client's), not the web UI's own files. */
export function isDescribed(route: RouteSpec): boolean {
  return route.access !== "trpc" && !(route.page === true && route.prefix === true);
}

/** `/api/chat/:id/stream` as OpenAPI writes it: `/api/chat/{id}/stream`. */
function openAPIPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

function operation(
  name: string,
  method: RouteMethod,
  route: RouteSpec,
  keysRequired: boolean,
): ZodOpenApiOperationObject {
  const summary = route.methods[method] ?? "";
  const spec: RouteOperation | undefined = route.schemas?.[method];
  const keyed = keysRequired && (route.access === "key" || route.access === "admin");
  const responses: ZodOpenApiResponsesObject = {
    200: { description: answerDescription(summary, spec?.answer), content: content(spec?.answer) },
  };
  for (const [status, also] of Object.entries(spec?.also ?? {})) {
    responses[status as Status] = { description: also.description, content: content(also.content) };
  }
  const failure = content(spec?.failure ?? { json: ErrorBody });
  const takesInput = spec?.body !== undefined || spec?.query !== undefined || spec?.params !== undefined;
  if (takesInput)
    responses["400"] = { description: "Invalid input: the body names each field and what is wrong.", content: failure };
  if (keyed) responses["401"] = { description: errorCatalogue.unauthorized.message, content: failure };
  if (keyed && route.access === "admin")
    responses["403"] = { description: errorCatalogue.forbidden.message, content: failure };
  responses.default = { description: "A failure: the status and body say which.", content: failure };
  return {
    operationId: `${method.toLowerCase()}${name[0]?.toUpperCase()}${name.slice(1)}`,
    summary,
    ...(route.access === "admin" ? { description: "Needs an admin key when keys are on (BROOK_ADMIN_KEYS)." } : {}),
    tags: [tagOf(route.path)],
    ...(keyed ? { security: [{ bearer: [] }] } : {}),
    requestParams: {
      ...(spec?.query === undefined ? {} : { query: spec.query }),
      ...(spec?.headers === undefined ? {} : { header: spec.headers }),
      ...(route.path.includes("/:") ? { path: spec?.params ?? pathParams(route.path) } : {}),
    },
    ...(spec?.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: spec.body,
                ...(spec.example === undefined ? {} : { example: spec.example }),
              },
            },
          },
        }),
    responses,
  };
}

function tagOf(path: string): string {
  if (path.startsWith("/v1/")) return "OpenAI";
  if (path.startsWith("/api/chat")) return "AI SDK";
  return "Brook";
}

function answerDescription(summary: string, answer: RouteContent | undefined): string {
  const said = summary.charAt(0).toUpperCase() + summary.slice(1);
  if (answer?.events === undefined) return said;
  const either = answer.json === undefined ? "" : " (`application/json` when the request does not ask for a stream)";
  return `${said}: Server-Sent Events, one JSON value of the schema per \`data:\` line${either}.`;
}

function content(body: RouteContent | undefined): ZodOpenApiContentObject | undefined {
  if (body === undefined) return undefined;
  const media: ZodOpenApiContentObject = {};
  if (body.json !== undefined) media["application/json"] = { schema: body.json };
  if (body.events !== undefined) media["text/event-stream"] = { schema: body.events };
  if (body.text !== undefined) media[body.text] = { schema: { type: "string" } };
  return media;
}

/** Each `:name` segment of a path as a string parameter. */
function pathParams(path: string): z.ZodObject {
  const names = [...path.matchAll(/:(\w+)/g)].map((match) => match[1] ?? "");
  return z.object(Object.fromEntries(names.map((name) => [name, z.string()])));
}

/**
 * `@brook/shared`'s object, union, enum and recursive schemas under their exported names (the first name of a
 * schema exported twice), so that the document refers to `ChatRequest`, `ChatEvent`, `Usage`…
 */
function namedSchemas(): Record<string, z.ZodType> {
  const named = new Map<z.ZodType, string>();
  for (const [name, value] of Object.entries(shared)) {
    if (!(value instanceof z.ZodType) || !/^[A-Z]/.test(name) || aliases.has(name)) continue;
    const kind = value._zod.def.type;
    if (["object", "union", "enum", "lazy"].includes(kind) && !named.has(value)) named.set(value, name);
  }
  return Object.fromEntries([...named].map(([schema, name]) => [name, schema]));
}

/** Names kept for older clients: the schema is described under its current name. */
const aliases = new Set(["RedisState"]);

/**
 * Answers may gain fields in later versions (as the events did): objects in answers allow fields
 * they do not name, unless the schema is strict on purpose.
 */
function allowAddedFields({
  jsonSchema,
  zodSchema,
  io,
}: Parameters<NonNullable<CreateDocumentOptions["override"]>>[0]) {
  const def = zodSchema._zod.def as { type: string; catchall?: unknown };
  if (
    io === "output" &&
    def.type === "object" &&
    def.catchall === undefined &&
    jsonSchema.additionalProperties === false
  ) {
    delete jsonSchema.additionalProperties;
  }
}

/** The error catalogue in `ErrorCode`'s description: each code's HTTP status and whether a retry may help. */
function describeErrorCodes(document: OpenAPIDocument): void {
  const schemas = document.components?.schemas ?? {};
  for (const name of ["ErrorCode", "ErrorCodeOutput"]) {
    const schema = schemas[name] as { description?: string } | undefined;
    if (schema === undefined) continue;
    schema.description = [
      "Stable codes of the error catalogue: each fixes the HTTP status and whether retrying the same request may help.",
      "",
      "| code | status | retryable | meaning |",
      "| --- | --- | --- | --- |",
      ...Object.entries(errorCatalogue).map(
        ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.retryable ? "yes" : "no"} | ${spec.message} |`,
      ),
    ].join("\n");
  }
}

/** Components that no route refers to (directly or through another component) are left out. */
function withoutUnusedSchemas(document: OpenAPIDocument): OpenAPIDocument {
  const schemas = document.components?.schemas;
  if (schemas === undefined) return document;
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      const prefix = "#/components/schemas/";
      if (key === "$ref" && typeof inner === "string" && inner.startsWith(prefix)) {
        const name = inner.slice(prefix.length);
        if (!used.has(name)) {
          used.add(name);
          visit(schemas[name]);
        }
      } else visit(inner);
    }
  };
  visit(document.paths);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...document, components: { ...document.components, schemas: kept } };
}

/**
 * A schema whose input and output differ (defaults) gets a second component, `<name>Output`; one
 * used in answers only keeps its own name.
 */
function withPlainNames(document: OpenAPIDocument): OpenAPIDocument {
  const schemas = document.components?.schemas ?? {};
  const renamed = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    const plain = name.replace(/Output$/, "");
    if (plain !== name && !(plain in schemas)) renamed.set(name, plain);
  }
  if (renamed.size === 0) return document;
  const text = JSON.stringify(document).replace(/"#\/components\/schemas\/(\w+)"/g, (ref, name: string) =>
    renamed.has(name) ? `"#/components/schemas/${renamed.get(name)}"` : ref,
  );
  const result = JSON.parse(text) as OpenAPIDocument;
  const components = result.components?.schemas ?? {};
  result.components = {
    ...result.components,
    schemas: Object.fromEntries(
      Object.entries(components).map(([name, schema]) => [renamed.get(name) ?? name, schema]),
    ),
  };
  return result;
}
