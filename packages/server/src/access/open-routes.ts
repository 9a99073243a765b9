import { routeOf } from "@brook/shared";

/**
 * Requests anyone may make without an API key: the open routes (the health probe, the status
 * at `/`, the web app's files; the page asks for a key itself, after loading) and top-level
 * static files such as /favicon.ico or /robots.txt.
 */
export function isOpenRoute(method: string, url: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (routeOf(url)?.access === "open") return true;
  return /^\/[\w.-]+\.(ico|png|svg|txt|webmanifest|json|js|css|html)$/.test(url.split("?", 1)[0] ?? "");
}
