import { describe, expect, it } from "vitest";
import { privateHostProblem } from "./attachment-limits.js";

describe("privateHostProblem", () => {
  it("refuses hosts inside a network: loopback, private, link-local, local names", () => {
    for (const host of [
      "127.0.0.1",
      "10.0.0.5",
      "172.20.1.1",
      "192.168.0.10",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "[::1]",
      "[fd00::1]",
      "[fe80::1]",
      "[::ffff:127.0.0.1]",
      "localhost",
      "api.localhost",
      "printer.local",
      "metadata.google.internal",
      "intranet",
    ]) {
      expect(privateHostProblem(host), host).toMatch(/public address/);
    }
  });

  it("accepts public addresses and names", () => {
    for (const host of ["images.example.com", "8.8.8.8", "[2606:4700::1111]", "example.com."]) {
      expect(privateHostProblem(host), host).toBeUndefined();
    }
  });
});
