import { parseConfig } from "@brook/server";
import { describe, expect, it } from "vitest";
import { contentOf, startDemoBrook, streamEvents } from "./support/brook-harness.js";

describe("demo mode's answers", () => {
  it("stream long enough to stop midway: some 5 s of pieces at the default pace", async () => {
    const tokenDelayMs = parseConfig({}).DEMO_TOKEN_DELAY_MS;
    const demo = await startDemoBrook();
    try {
      for (const message of ["What can you do?", "你能做什么？"]) {
        const events = await streamEvents(demo.url, { message });
        const pieces = events.filter((event) => event.type === "content").length;
        // The pace is the server's setting (0 in tests); the length is the answer's.
        expect(pieces * tokenDelayMs, message).toBeGreaterThanOrEqual(4500);
        expect(pieces * tokenDelayMs, message).toBeLessThanOrEqual(7500);
        expect(contentOf(events)).toContain("OPENAI_API_KEY");
        expect(events.at(-1)?.type).toBe("complete");
      }
    } finally {
      await demo.close();
    }
  });
});
