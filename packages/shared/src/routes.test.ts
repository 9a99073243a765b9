import { describe, expect, it } from "vitest";
import { routeOf, routes } from "./routes.js";

describe("routes", () => {
  it("finds a request's route by its path, whatever its query", () => {
    expect(routeOf("/chat/stream?message=hi")).toBe(routes.chatStream);
    expect(routeOf("/chat")).toBe(routes.chat);
    expect(routeOf("/")).toBe(routes.root);
    expect(routeOf("/nowhere")).toBeUndefined();
  });

  it("covers every path under a prefix route, and only those", () => {
    expect(routeOf("/trpc/chat.start")).toBe(routes.trpc);
    expect(routeOf("/trpc?batch=1")).toBe(routes.trpc);
    expect(routeOf("/trpcx")).toBeUndefined();
    expect(routeOf("/assets/index-abc.js")).toBe(routes.assets);
    expect(routeOf("/chat/stream/more")).toBeUndefined();
  });

  it("matches a :name segment to any one segment", () => {
    expect(routeOf("/api/chat/abc-1/stream")).toBe(routes.uiChatStream);
    expect(routeOf("/api/chat/abc-1/stop")).toBe(routes.uiChatStop);
    expect(routeOf("/api/chat")).toBe(routes.uiChat);
    expect(routeOf("/v1/models/gpt-4o-mini")).toBe(routes.openaiModel);
    expect(routeOf("/api/chat//stream")).toBeUndefined();
    expect(routeOf("/api/chat/a/b/stream")).toBeUndefined();
  });
});
