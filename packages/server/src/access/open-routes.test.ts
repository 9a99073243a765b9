import { describe, expect, it } from "vitest";
import { isOpenRoute } from "./open-routes.js";

describe("open routes", () => {
  it("are the health probe, the status page and static files, for GET and HEAD only", () => {
    for (const path of ["/", "/health", "/health?x=1", "/index.html", "/assets/index-abc.js", "/favicon.ico"]) {
      expect(isOpenRoute("GET", path), path).toBe(true);
    }
    expect(isOpenRoute("HEAD", "/health")).toBe(true);
    for (const path of ["/chat", "/chat/stream", "/stats", "/metrics", "/reset-stats", "/trpc/health"]) {
      expect(isOpenRoute("GET", path), path).toBe(false);
    }
    expect(isOpenRoute("POST", "/health")).toBe(false);
    expect(isOpenRoute("POST", "/")).toBe(false);
  });
});
