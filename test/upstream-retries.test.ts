import { describe, expect, it } from "vitest";
import { contentOf, streamEvents, until } from "./support/brook-harness.js";
import { harness } from "./support/per-test.js";

describe("retrying the model server before the answer starts", () => {
  it("retries a 429 and then a 503, and streams one answer", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { text: "finally here" });
    upstream.enqueue({ status: 429 }, { status: 503, retryAfterSeconds: 0 });
    const events = await streamEvents(url, { message: "hi" });
    expect(contentOf(events)).toBe("finally here");
    expect(events.filter((event) => event.type === "complete")).toHaveLength(1);
    expect(upstream.requests).toHaveLength(3);
  });

  it("gives up after OPENAI_MAX_RETRIES and reports the last failure", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "1" }, { status: 429 });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_rate_limited", retryable: true });
    expect(upstream.requests).toHaveLength(2);
  });

  it("does not retry what cannot pass: a rejected key", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { status: 401 });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_auth" });
    expect(upstream.requests).toHaveLength(1);
  });

  it("does not retry an exhausted quota, though it answers 429", async () => {
    const { url, upstream } = await harness(
      { OPENAI_MAX_RETRIES: "2" },
      { status: 429, errorCode: "insufficient_quota" },
    );
    const events = await streamEvents(url, { message: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_quota", retryable: false });
    expect(upstream.requests).toHaveLength(1);
  });

  it("never asks again once the answer has started: a cut stream is reported, not retried", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { text: "one two three", cutAfter: 2 });
    const events = await streamEvents(url, { message: "hi" });
    expect(contentOf(events)).toBe("one two");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_incomplete" });
    expect(upstream.requests).toHaveLength(1);
  });

  it("never asks again after an error inside the stream", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { text: "partial", rawData: "{not json" });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_error" });
    expect(upstream.requests).toHaveLength(1);
  });

  it("does not wait out an unreasonable Retry-After: the caller hears at once", async () => {
    const { url, upstream } = await harness({ OPENAI_MAX_RETRIES: "2" }, { status: 429, retryAfterSeconds: 3600 });
    const events = await streamEvents(url, { message: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "upstream_rate_limited" });
    expect(upstream.requests).toHaveLength(1);
  });

  it("stops waiting to retry the moment the client leaves", async () => {
    const { url, upstream, brook } = await harness({ OPENAI_MAX_RETRIES: "2" }, { status: 503, retryAfterSeconds: 15 });
    const controller = new AbortController();
    const response = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await until(() => upstream.requests.length === 1);
    controller.abort();
    // Well before the 15 s the server asked for, the run has ended and nothing was retried.
    await until(() => brook.services.control.activeCount === 0, 3_000);
    expect(upstream.requests).toHaveLength(1);
  });
});
