import { describe, expect, it } from "vitest";
import { errorText, maxErrorBodyBytes } from "./error-text.js";

describe("errorText", () => {
  it("reads a refusal's whole body when it is small", async () => {
    expect(await errorText(new Response('{"error":{"message":"overloaded"}}', { status: 503 }))).toBe(
      '{"error":{"message":"overloaded"}}',
    );
  });

  it("reads at most maxErrorBodyBytes of an endless body and cancels the rest", async () => {
    let cancelled = false;
    const piece = new Uint8Array(16 * 1024).fill(120);
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(piece),
      cancel: () => {
        cancelled = true;
      },
    });
    const text = await errorText(new Response(endless, { status: 500 }));
    expect(text.length).toBe(maxErrorBodyBytes);
    expect(cancelled).toBe(true);
  });
});
