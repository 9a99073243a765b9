import { describe, expect, it } from "vitest";
import { colorEnabled } from "./terminal.js";

describe("colorEnabled", () => {
  it("colours a terminal, never a pipe, and follows NO_COLOR, FORCE_COLOR and TERM=dumb", () => {
    const screen = { isTTY: true };
    const pipe = { isTTY: false };
    expect(colorEnabled(screen, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(screen, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(screen, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled(screen, { NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(false);
    expect(colorEnabled(screen, { TERM: "dumb" })).toBe(false);
  });
});
