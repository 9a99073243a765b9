import { routeOf } from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";

/**
 * A request no route answers: 405 with `Allow` when its path is a route's (of another method),
 * else 404. Each surface shapes the error its own way.
 */
export function routeMiss(method: string, url: string): { error: BrookError; headers: Record<string, string> } {
  const path = url.split("?", 1)[0];
  const route = routeOf(url);
  if (route !== undefined && !route.prefix) {
    const allow = Object.keys(route.methods).join(", ");
    return {
      error: new BrookError("method_not_allowed", `${path} answers ${allow}, not ${method}.`),
      headers: { allow },
    };
  }
  return { error: new BrookError("not_found", `No route ${method} ${path}.`), headers: {} };
}
