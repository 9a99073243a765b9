import type { Health, Mode, RouteSpec, ServiceInfo } from "@brook/shared";
import { routes } from "@brook/shared";
import type { ApiKeys } from "./access/api-keys.js";
import { type Backend, backendReady } from "./backends/backend.js";
import type { RunControl } from "./control/run-control.js";
import type { ConfiguredModel } from "./models/configured-model.js";
import type { ToolRegistry } from "./tools/tool-registry.js";

/** What `/health` and `GET /` report on. */
export interface StatusSources {
  mode: Mode;
  version: string;
  /** When this instance started (ms since the epoch). */
  startedAt: number;
  control: Pick<RunControl, "draining" | "activeCount">;
  model: Pick<ConfiguredModel, "defaultModel" | "models" | "modelServerStatus" | "ready" | "deployments" | "router">;
  backend: Pick<Backend, "state">;
  tools: Pick<ToolRegistry, "statuses">;
  apiKeys: Pick<ApiKeys, "required">;
}

/**
 * `/health`: ready when this instance can serve every request: not draining, the shared state
 * reachable (when there is one), a deployment of the default model usable (not known to be
 * unreachable, not cooling down, not full).
 */
export function healthOf(sources: StatusSources): Health {
  const { control, model, backend, mode, version } = sources;
  const shared = backend.state();
  return {
    status: control.draining ? "draining" : "ok",
    ready: !control.draining && backendReady(backend) && model.ready(),
    // The wire keeps its first backend's name for the shared state's connection.
    ...(shared === undefined ? {} : { redis: shared }),
    streaming: true,
    mode,
    model: model.defaultModel,
    version,
    uptime_s: Math.round((Date.now() - sources.startedAt) / 1000),
    active_runs: control.activeCount,
    mcp_servers: sources.tools.statuses(),
    auth_required: sources.apiKeys.required,
    model_server: model.modelServerStatus(),
    ...(model.router === undefined ? {} : { models: [...model.models], deployments: model.deployments() }),
  };
}

/** `GET /`: what this service is and where its endpoints are. */
export function serviceInfo(mode: Mode, version: string, defaultModel: string): ServiceInfo {
  return {
    name: "Brook",
    status: "running",
    version,
    mode,
    model: defaultModel,
    endpoints: endpoints(),
    docs: routes.docs.path,
  };
}

/** `"METHOD /path"` → what it does, for `GET /`. */
function endpoints(): Record<string, string> {
  const listed: Record<string, string> = {};
  for (const route of Object.values(routes) as RouteSpec[]) {
    if (route.prefix && route.page) continue;
    for (const [method, summary] of Object.entries(route.methods)) listed[`${method} ${route.path}`] = summary;
  }
  return listed;
}
