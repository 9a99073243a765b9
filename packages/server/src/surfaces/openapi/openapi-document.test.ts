import { ChatEvent, ErrorCode, type RouteMethod, type RouteSpec, routes } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isDescribed, type OpenAPIDocument, openAPIDocument } from "./openapi-document.js";

type Operation = {
  [key: string]: unknown;
  security?: unknown;
  requestBody?: { content: Record<string, { schema: unknown }> };
};

function operationOf(document: OpenAPIDocument, path: string, method: "get" | "post"): Operation {
  const operation = (document.paths?.[path] as Record<string, Operation> | undefined)?.[method];
  if (operation === undefined) throw new Error(`${method} ${path} is not in the document`);
  return operation;
}

function responseSchema(operation: Operation, status: string, media: string): unknown {
  const responses = operation.responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
  return responses[status]?.content?.[media]?.schema;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe("the OpenAPI document", () => {
  const open = openAPIDocument({ version: "1.2.3", keysRequired: false });
  const keyed = openAPIDocument({ version: "1.2.3", keysRequired: true });

  it("describes every route of the list with each of its methods, and the schemas each declares", () => {
    const described = (Object.values(routes) as RouteSpec[]).filter(isDescribed);
    expect(described.map((route) => route.path)).toEqual(
      expect.arrayContaining(["/chat/stream", "/chat", "/", "/health", "/stats", "/reset-stats", "/tools"]),
    );
    for (const route of described) {
      const path = route.path.replace(/:(\w+)/g, "{$1}");
      for (const method of Object.keys(route.methods) as RouteMethod[]) {
        // A route added to the list without its schemas would be described by its summary only.
        expect(route.schemas?.[method], `${method} ${route.path} declares its schemas`).toBeDefined();
        expect(operationOf(open, path, method === "GET" ? "get" : "post").summary).toBe(route.methods[method]);
      }
    }
    // tRPC is the typed client's; the UI's files are no API.
    expect(Object.keys(open.paths ?? {})).not.toContain("/trpc");
    expect(Object.keys(open.paths ?? {})).not.toContain("/assets");
  });

  it("gives the seed's routes their request and answer schemas, the stream as Server-Sent Events of the event union", () => {
    const chat = operationOf(open, "/chat", "post");
    expect(chat.requestBody?.content["application/json"]?.schema).toEqual(ref("ChatRequest"));
    expect(responseSchema(chat, "200", "application/json")).toEqual(ref("ChatResult"));
    const stream = operationOf(open, "/chat/stream", "post");
    expect(responseSchema(stream, "200", "text/event-stream")).toEqual(ref("ChatEvent"));
    expect(responseSchema(stream, "default", "application/json")).toEqual(ref("ErrorBody"));
    const eventSource = operationOf(open, "/chat/stream", "get");
    expect(eventSource.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: "query", name: "message", required: true }),
        expect.objectContaining({ in: "header", name: "last-event-id" }),
      ]),
    );
    expect(responseSchema(operationOf(open, "/health", "get"), "200", "application/json")).toEqual(ref("Health"));
    expect(responseSchema(operationOf(open, "/stats", "get"), "200", "application/json")).toEqual(ref("Stats"));

    // Every event type of the union, each under its own name, told apart by `type`.
    const schemas = open.components?.schemas ?? {};
    const union = schemas.ChatEvent as { discriminator: { propertyName: string; mapping: Record<string, string> } };
    expect(union.discriminator.propertyName).toBe("type");
    expect(Object.keys(union.discriminator.mapping)).toEqual(
      ChatEvent.options.map((option) => option.shape.type.value),
    );
    expect(union.discriminator.mapping.complete).toBe(ref("CompleteEvent").$ref);
    expect(schemas.CompleteEvent).toMatchObject({ properties: { usage: ref("Usage"), timing: ref("Timing") } });
  });

  it("names the catalogue's codes in the error body, each with its status", () => {
    const code = open.components?.schemas?.ErrorCode as { enum: string[]; description: string };
    expect(code.enum).toEqual(ErrorCode.options);
    expect(code.description).toContain("| `unauthorized` | 401 | no |");
    expect(open.components?.schemas?.ErrorBody).toMatchObject({ properties: { code: ref("ErrorCode") } });
    // The other surfaces answer in their own shapes.
    const completions = operationOf(open, "/v1/chat/completions", "post");
    expect(responseSchema(completions, "default", "application/json")).toEqual(ref("OpenAIErrorBody"));
    expect(responseSchema(completions, "200", "text/event-stream")).toEqual(ref("OpenAIChatCompletionChunk"));
    expect(responseSchema(operationOf(open, "/api/chat", "post"), "default", "text/plain")).toEqual({ type: "string" });
  });

  it("carries the bearer scheme on keyed routes only when keys are on", () => {
    expect(open.components?.securitySchemes).toBeUndefined();
    expect(operationOf(open, "/chat", "post").security).toBeUndefined();
    expect(keyed.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    expect(operationOf(keyed, "/chat", "post").security).toEqual([{ bearer: [] }]);
    expect(operationOf(keyed, "/reset-stats", "post").responses).toHaveProperty("403");
    expect(operationOf(keyed, "/health", "get").security).toBeUndefined();
    expect(operationOf(keyed, "/openapi.json", "get").security).toBeUndefined();
  });

  it("describes a route added to the list with its schemas, named as exported", () => {
    const Widget = z.object({ id: z.string(), size: z.number().int() });
    const routeList: Record<string, RouteSpec> = {
      ...routes,
      widget: {
        path: "/widgets/:id",
        methods: { GET: "one widget" },
        access: "key",
        schemas: { GET: { answer: { json: Widget } } },
      },
    };
    const document = openAPIDocument({ version: "1.2.3", keysRequired: true, routeList });
    const widget = operationOf(document, "/widgets/{id}", "get");
    expect(widget.operationId).toBe("getWidget");
    expect(widget.parameters).toEqual([expect.objectContaining({ in: "path", name: "id", required: true })]);
    expect(responseSchema(widget, "200", "application/json")).toMatchObject({
      properties: { id: { type: "string" }, size: { type: "integer" } },
      required: ["id", "size"],
    });
    expect(widget.security).toEqual([{ bearer: [] }]);
  });
});
