/**
 * Requests anyone may make without an API key: the health probe, the service status at `/`,
 * and the web app's static files (the page asks for a key itself, after loading).
 */
export function isOpenRoute(method: string, url: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  const path = url.split("?", 1)[0] ?? "";
  return (
    path === "/" ||
    path === "/health" ||
    path === "/index.html" ||
    path.startsWith("/assets/") ||
    // Top-level static files such as /favicon.ico or /robots.txt.
    /^\/[\w.-]+\.(ico|png|svg|txt|webmanifest|json|js|css|html)$/.test(path)
  );
}

/** tRPC checks keys itself (it also reads them from subscription connection parameters). */
export function isTrpcRoute(url: string): boolean {
  return url === "/trpc" || url.startsWith("/trpc/") || url.startsWith("/trpc?");
}
