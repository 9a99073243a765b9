import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentOf, type Harness, startHarness, streamEvents } from "./support/brook-harness.js";

describe("smoke", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({}, { text: "Hello there, friend." });
  });
  afterAll(() => harness.close());

  it("streams start, content and complete", async () => {
    const events = await streamEvents(harness.url, { message: "hi" });
    expect(events[0]?.type).toBe("start");
    expect(contentOf(events)).toBe("Hello there, friend.");
    expect(events.at(-1)?.type).toBe("complete");
  });
});
