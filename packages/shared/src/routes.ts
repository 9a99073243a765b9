/**
 * Brook's HTTP routes, in one list: the server registers its routes by these paths, decides from
 * `access` which need an API key, answers a wrong method with 405 and `Allow`, and lists them at
 * `GET /`; the web UI's dev server forwards them to Brook. A route with `prefix` covers every
 * path under it; a `:name` segment matches any one segment (`/api/chat/:id/stream`).
 */
export interface RouteSpec {
  readonly path: string;
  /** Each method the route answers, with what it does. */
  readonly methods: Readonly<Partial<Record<"GET" | "POST", string>>>;
  /**
   * `open` to anyone, `key` with an API key when BROOK_API_KEYS is set, `admin` with an admin key
   * (BROOK_ADMIN_KEYS) when keys are set, `trpc`: tRPC checks keys itself.
   */
  readonly access: "open" | "key" | "admin" | "trpc";
  readonly prefix?: true;
  /** Served by the web UI's own dev server too (the page and its assets). */
  readonly page?: true;
}

export const routes = {
  chatStream: {
    path: "/chat/stream",
    methods: {
      POST: "stream a reply as Server-Sent Events",
      GET: "the same stream for EventSource (?message=…), resumed through Last-Event-ID",
    },
    access: "key",
  },
  approval: {
    path: "/runs/:run_id/approvals/:approval_id",
    methods: { POST: "approves or denies a tool call a run waits on" },
    access: "key",
  },
  chat: { path: "/chat", methods: { POST: "the whole reply as one JSON answer" }, access: "key" },
  root: { path: "/", methods: { GET: "this service, as JSON; the web UI for browsers" }, access: "open", page: true },
  health: { path: "/health", methods: { GET: "health and mode" }, access: "open" },
  ready: {
    path: "/health/ready",
    methods: { GET: "200 when this instance can serve every request, else 503 (for load balancers)" },
    access: "open",
  },
  tools: { path: "/tools", methods: { GET: "the MCP tools the model can use" }, access: "key" },
  stats: { path: "/stats", methods: { GET: "usage statistics" }, access: "key" },
  resetStats: { path: "/reset-stats", methods: { POST: "reset usage statistics" }, access: "admin" },
  metrics: { path: "/metrics", methods: { GET: "Prometheus metrics" }, access: "key" },
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
  },
  uiChatStream: {
    path: "/api/chat/:id/stream",
    methods: { GET: "a chat's running or just-finished answer again, from its first chunk (204: none)" },
    access: "key",
  },
  uiChatStop: { path: "/api/chat/:id/stop", methods: { POST: "stops a chat's running answer" }, access: "key" },
  openaiChat: {
    path: "/v1/chat/completions",
    methods: { POST: "OpenAI-compatible chat completions, streaming or not" },
    access: "key",
  },
  openaiModels: { path: "/v1/models", methods: { GET: "the models, as OpenAI lists them" }, access: "key" },
  openaiModel: { path: "/v1/models/:model", methods: { GET: "one model, as OpenAI describes it" }, access: "key" },
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
