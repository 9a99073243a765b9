import { z } from "zod";
import { ChatEvent } from "./chat-event.js";
import { ChatStreamQuery, LastEventIdHeader } from "./chat-query.js";
import { ChatRequest } from "./chat-request.js";
import { ChatResult } from "./chat-result.js";
import { Health, Readiness, ServiceInfo } from "./health.js";
import {
  OpenAIChatCompletion,
  OpenAIChatCompletionChunk,
  OpenAIChatRequest,
  OpenAIErrorBody,
  OpenAIModel,
  OpenAIModelList,
} from "./openai-chat.js";
import { OpenAIResponse, OpenAIResponseStreamEvent, OpenAIResponsesRequest } from "./openai-responses.js";
import { AnswerInputResult, ApprovalAnswer, ApproveResult, CancelResult, InputAnswer } from "./run-control.js";
import { Stats } from "./stats.js";
import { McpConnectResult, McpOAuthCallbackQuery, McpServerParams, ToolList } from "./tools.js";
import { UIChatId, UIChatRequest, UIMessageChunk } from "./ui-message-stream.js";

/**
 * Brook's HTTP routes, in one list: the server registers its routes by these paths, decides from
 * `access` which need an API key, answers a wrong method with 405 and `Allow`, lists them at
 * `GET /` and describes them in its OpenAPI document (`GET /openapi.json`, from `schemas`); the
 * web UI's dev server forwards them to Brook. A route with `prefix` covers every path under it; a
 * `:name` segment matches any one segment (`/api/chat/:id/stream`).
 */
export interface RouteSpec {
  readonly path: string;
  /** Each method the route answers, with what it does. */
  readonly methods: Readonly<Partial<Record<RouteMethod, string>>>;
  /**
   * `open` to anyone, `key` with an API key when BROOK_API_KEYS is set, `admin` with an admin key
   * (BROOK_ADMIN_KEYS) when keys are set, `trpc`: tRPC checks keys itself.
   */
  readonly access: "open" | "key" | "admin" | "trpc";
  readonly prefix?: true;
  /** Served by the web UI's own dev server too (the page and its assets). */
  readonly page?: true;
  /** What each method takes and answers, for the OpenAPI document. */
  readonly schemas?: Readonly<Partial<Record<RouteMethod, RouteOperation>>>;
}

export type RouteMethod = "GET" | "POST";

/** What one method of a route takes and answers. */
export interface RouteOperation {
  /** Its JSON request body. */
  readonly body?: z.ZodType;
  /** A body to start from, for people trying the route (`/docs`). */
  readonly example?: unknown;
  /** Its query parameters. */
  readonly query?: z.ZodObject;
  /** Its `:name` path segments (each a string when not given). */
  readonly params?: z.ZodObject;
  /** The request headers it reads. */
  readonly headers?: z.ZodObject;
  /** What it answers with 200. */
  readonly answer: RouteContent;
  /** Its other answers that are not failures, by status (204: nothing to resume), with what they mean. */
  readonly also?: Readonly<Record<number, { readonly description: string; readonly content?: RouteContent }>>;
  /** The body of its failures: REST's `ErrorBody` when not given. */
  readonly failure?: RouteContent;
}

/** A body, by media type: JSON, Server-Sent Events whose `data` lines are each one JSON value, text. */
export interface RouteContent {
  readonly json?: z.ZodType;
  /** `text/event-stream`: each event's `data` is one of these. */
  readonly events?: z.ZodType;
  /** A text media type answered as it is (`text/html`, `text/plain`). */
  readonly text?: string;
}

/** The OpenAPI document: an object whose fields OpenAPI 3.1 defines. */
const OpenAPIDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });
const chatStreamAnswer = { events: ChatEvent } as const;
/** The seed's example request. */
const chatExample = { message: "你好，世界！" };
/** The AI SDK reads a refusal's body as the error's text. */
const uiFailure = { text: "text/plain" } as const;
const openaiFailure = { json: OpenAIErrorBody } as const;
const chatIdParams = z.object({ id: UIChatId });
const approvalParams = z.object({ run_id: z.string(), approval_id: z.string() });
const inputParams = z.object({ run_id: z.string(), input_id: z.string() });

export const routes = {
  chatStream: {
    path: "/chat/stream",
    methods: {
      POST: "stream a reply as Server-Sent Events",
      GET: "the same stream for EventSource (?message=…), resumed through Last-Event-ID",
    },
    access: "key",
    schemas: {
      POST: { body: ChatRequest, example: chatExample, answer: chatStreamAnswer },
      GET: {
        query: ChatStreamQuery,
        headers: LastEventIdHeader,
        answer: chatStreamAnswer,
        also: { 204: { description: "Nothing left to resume: the run of Last-Event-ID ended, or is unknown." } },
      },
    },
  },
  chat: {
    path: "/chat",
    methods: { POST: "the whole reply as one JSON answer" },
    access: "key",
    schemas: { POST: { body: ChatRequest, example: chatExample, answer: { json: ChatResult } } },
  },
  root: {
    path: "/",
    methods: { GET: "this service, as JSON; the web UI for browsers" },
    access: "open",
    page: true,
    schemas: { GET: { answer: { json: ServiceInfo, text: "text/html" } } },
  },
  health: {
    path: "/health",
    methods: { GET: "health and mode" },
    access: "open",
    schemas: {
      GET: {
        answer: { json: Health },
        also: { 503: { description: "Draining: shutting down.", content: { json: Health } } },
      },
    },
  },
  approval: {
    path: "/runs/:run_id/approvals/:approval_id",
    methods: { POST: "approves or denies a tool call a run waits on" },
    access: "key",
    schemas: { POST: { params: approvalParams, body: ApprovalAnswer, answer: { json: ApproveResult } } },
  },
  input: {
    path: "/runs/:run_id/inputs/:input_id",
    methods: {
      POST: "answers a question an MCP server asked during a tool call (accept with content, decline, cancel)",
    },
    access: "key",
    schemas: { POST: { params: inputParams, body: InputAnswer, answer: { json: AnswerInputResult } } },
  },
  ready: {
    path: "/health/ready",
    methods: { GET: "200 when this instance can serve every request, else 503 (for load balancers)" },
    access: "open",
    schemas: {
      GET: {
        answer: { json: Readiness },
        also: { 503: { description: "Not ready.", content: { json: Readiness } } },
      },
    },
  },
  tools: {
    path: "/tools",
    methods: { GET: "the MCP tools the model can use" },
    access: "key",
    schemas: { GET: { answer: { json: ToolList } } },
  },
  mcpConnect: {
    path: "/mcp/servers/:name/connect",
    methods: { POST: "starts connecting an OAuth MCP server: answers the authorization page to open" },
    access: "key",
    schemas: { POST: { params: McpServerParams, answer: { json: McpConnectResult } } },
  },
  mcpOAuthCallback: {
    path: "/mcp/oauth/callback",
    methods: { GET: "where an MCP server's authorization server sends the browser back (bound by `state`)" },
    // No key header comes back with a redirect: the one-time `state` of the connect request binds it.
    access: "open",
    schemas: {
      GET: {
        query: McpOAuthCallbackQuery,
        answer: { text: "text/html" },
        also: { 303: { description: "Connected: back to the web UI." } },
        failure: { text: "text/html" },
      },
    },
  },
  stats: {
    path: "/stats",
    methods: { GET: "usage statistics" },
    access: "key",
    schemas: { GET: { answer: { json: Stats } } },
  },
  resetStats: {
    path: "/reset-stats",
    methods: { POST: "reset usage statistics" },
    access: "admin",
    schemas: { POST: { answer: { json: Stats } } },
  },
  metrics: {
    path: "/metrics",
    methods: { GET: "Prometheus metrics" },
    access: "key",
    schemas: { GET: { answer: { text: "text/plain" } } },
  },
  trpc: {
    path: "/trpc",
    methods: { GET: "typed tRPC API: queries and subscriptions", POST: "typed tRPC API: mutations" },
    access: "trpc",
    prefix: true,
  },
  assets: { path: "/assets", methods: { GET: "the web UI's files" }, access: "open", prefix: true, page: true },
  uiChat: {
    path: "/api/chat",
    methods: { POST: "the AI SDK's UI message stream (useChat, DefaultChatTransport)" },
    access: "key",
    schemas: { POST: { body: UIChatRequest, answer: { events: UIMessageChunk }, failure: uiFailure } },
  },
  uiChatStream: {
    path: "/api/chat/:id/stream",
    methods: { GET: "a chat's running or just-finished answer again, from its first chunk (204: none)" },
    access: "key",
    schemas: {
      GET: {
        params: chatIdParams,
        answer: { events: UIMessageChunk },
        also: { 204: { description: "The chat has no answer to read again." } },
        failure: uiFailure,
      },
    },
  },
  uiChatStop: {
    path: "/api/chat/:id/stop",
    methods: { POST: "stops a chat's running answer" },
    access: "key",
    schemas: { POST: { params: chatIdParams, answer: { json: CancelResult }, failure: uiFailure } },
  },
  openaiChat: {
    path: "/v1/chat/completions",
    methods: { POST: "OpenAI-compatible chat completions, streaming or not" },
    access: "key",
    schemas: {
      POST: {
        body: OpenAIChatRequest,
        answer: { json: OpenAIChatCompletion, events: OpenAIChatCompletionChunk },
        failure: openaiFailure,
      },
    },
  },
  openaiModels: {
    path: "/v1/models",
    methods: { GET: "the models, as OpenAI lists them" },
    access: "key",
    schemas: { GET: { answer: { json: OpenAIModelList }, failure: openaiFailure } },
  },
  openaiModel: {
    path: "/v1/models/:model",
    methods: { GET: "one model, as OpenAI describes it" },
    access: "key",
    schemas: { GET: { answer: { json: OpenAIModel }, failure: openaiFailure } },
  },
  openapi: {
    path: "/openapi.json",
    methods: { GET: "this API described in OpenAPI 3.1" },
    access: "open",
    schemas: { GET: { answer: { json: OpenAPIDocument } } },
  },
  docs: {
    path: "/docs",
    methods: { GET: "the interactive API reference: read and try every route" },
    access: "open",
    prefix: true,
    schemas: { GET: { answer: { text: "text/html" } } },
  },
  openaiResponses: {
    path: "/v1/responses",
    methods: { POST: "OpenAI's Responses API (stateless: nothing stored), streaming or not" },
    access: "key",
    schemas: {
      POST: {
        body: OpenAIResponsesRequest,
        answer: { json: OpenAIResponse, events: OpenAIResponseStreamEvent },
        failure: openaiFailure,
      },
    },
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof routes;

/** Routes with `:name` segments, each with the pattern of its paths. */
const patterns = (Object.values(routes) as RouteSpec[])
  .filter((route) => route.path.includes("/:"))
  .map((route) => ({ route, pattern: new RegExp(`^${route.path.replace(/\/:\w+/g, "/[^/]+")}$`) }));

/** The route a request path belongs to (query string ignored), if any. */
export function routeOf(url: string): RouteSpec | undefined {
  const path = url.split("?", 1)[0] ?? "";
  for (const route of Object.values(routes) as RouteSpec[]) {
    if (path === route.path || (route.prefix === true && path.startsWith(`${route.path}/`))) return route;
  }
  for (const { route, pattern } of patterns) if (pattern.test(path)) return route;
  return undefined;
}
