import { describe, expect, it } from "vitest";
import { OriginPolicy } from "./origin-policy.js";

describe("OriginPolicy", () => {
  const host = { host: "127.0.0.1:8081" };

  it("lets through requests without an Origin and from Brook's own origin only, by default", () => {
    const policy = new OriginPolicy([]);
    expect(policy.allows(host)).toBe(true);
    expect(policy.allows({ ...host, origin: "http://127.0.0.1:8081" })).toBe(true);
    expect(policy.allows({ ...host, origin: "http://127.0.0.1:9999" })).toBe(false);
    expect(policy.allows({ ...host, origin: "https://evil.example" })).toBe(false);
    expect(policy.allows({ ...host, origin: "null" })).toBe(false);
    expect(policy.listed("http://127.0.0.1:8081")).toBe(false);
  });

  it("trusts the public host a proxy forwards", () => {
    const policy = new OriginPolicy([]);
    const forwarded = { ...host, "x-forwarded-host": "chat.example, inner.proxy" };
    expect(policy.allows({ ...forwarded, origin: "https://chat.example" })).toBe(true);
    expect(policy.allows({ ...forwarded, origin: "https://inner.proxy" })).toBe(false);
  });

  it("adds listed origins, or any with *", () => {
    const listed = new OriginPolicy(["https://app.example"]);
    expect(listed.allows({ ...host, origin: "https://app.example" })).toBe(true);
    expect(listed.listed("https://app.example")).toBe(true);
    expect(listed.allows({ ...host, origin: "https://app.example.evil" })).toBe(false);
    expect(new OriginPolicy(["*"]).allows({ ...host, origin: "null" })).toBe(true);
  });
});
