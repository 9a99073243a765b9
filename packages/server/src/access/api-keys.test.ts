import { describe, expect, it } from "vitest";
import { ApiKeys, bearerKey, keyIdentity } from "./api-keys.js";

describe("ApiKeys", () => {
  it("accepts anything when no key is configured", () => {
    const keys = new ApiKeys([]);
    expect(keys.required).toBe(false);
    expect(keys.accepts(undefined)).toBe(true);
  });

  it("accepts only `Bearer <known key>`", () => {
    const keys = new ApiKeys(["alpha-key", "beta-key"]);
    expect(keys.required).toBe(true);
    expect(keys.accepts("Bearer alpha-key")).toBe(true);
    expect(keys.accepts("bearer beta-key")).toBe(true);
    expect(keys.accepts("Bearer alpha-ke")).toBe(false);
    expect(keys.accepts("Bearer alpha-key-longer")).toBe(false);
    expect(keys.accepts("alpha-key")).toBe(false);
    expect(keys.accepts("Basic alpha-key")).toBe(false);
    expect(keys.accepts("Bearer ")).toBe(false);
    expect(keys.accepts(undefined)).toBe(false);
    expect(keys.accepts(["Bearer alpha-key"])).toBe(false);
  });

  it("parses bearer values and names keys without revealing them", () => {
    expect(bearerKey("Bearer  k1 ")).toBe("k1");
    expect(bearerKey("Bearer a b")).toBeUndefined();
    expect(keyIdentity("secret")).not.toContain("secret");
    expect(keyIdentity("secret")).toBe(keyIdentity("secret"));
    expect(keyIdentity("secret")).not.toBe(keyIdentity("secret2"));
  });
});

describe("admin keys and run owners", () => {
  it("takes admin keys as API keys, and only them as admins", () => {
    const keys = new ApiKeys(["user-key"], ["admin-key"]);
    expect(keys.accepts("Bearer admin-key")).toBe(true);
    expect(keys.isAdmin("Bearer admin-key")).toBe(true);
    expect(keys.isAdmin("Bearer user-key")).toBe(false);
    expect(keys.isAdmin(undefined)).toBe(false);
    expect(new ApiKeys([]).isAdmin(undefined)).toBe(true);
  });

  it("names a run's owner by its key's identity, and no owner when keys are off or the key is unknown", () => {
    const keys = new ApiKeys(["user-key", "other-key"]);
    expect(keys.ownerOf("Bearer user-key")).toBe(keyIdentity("user-key"));
    expect(keys.ownerOf("Bearer other-key")).not.toBe(keys.ownerOf("Bearer user-key"));
    expect(keys.ownerOf("Bearer made-up")).toBeUndefined();
    expect(new ApiKeys([]).ownerOf("Bearer user-key")).toBeUndefined();
  });
});
