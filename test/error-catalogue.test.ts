import { readFileSync } from "node:fs";
import { ErrorBody, errorCatalogue, OpenAIErrorBody } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { harness } from "./support/per-test.js";

const restApiDoc = readFileSync(new URL("../docs/rest-api.md", import.meta.url), "utf8");

/** The rows of the docs' error table: code, HTTP status, retryable. */
function documentedCodes(): Map<string, { status: number; retryable: boolean }> {
  const rows = new Map<string, { status: number; retryable: boolean }>();
  for (const match of restApiDoc.matchAll(/^\| `([a-z_]+)` +\| (\d{3}) +\| (yes|no) +\|/gm)) {
    rows.set(match[1] as string, { status: Number(match[2]), retryable: match[3] === "yes" });
  }
  return rows;
}

describe("the error catalogue and its documentation", () => {
  it("docs/rest-api.md lists every code with its HTTP status and whether it is retryable, and no other", () => {
    const documented = documentedCodes();
    const catalogued = Object.entries(errorCatalogue).map(([code, spec]) => [
      code,
      { status: spec.status, retryable: spec.retryable },
    ]);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(catalogued));
  });
});

describe("a timeout answers 504 on every surface", () => {
  // Tokens keep flowing, so only MAX_RUN_MS ends the run.
  const slow = { tokens: 400, delayMs: 10 };
  const env = { MAX_RUN_MS: "200" };
  const post = (url: string, body: unknown) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("POST /chat, chat.complete and /v1/chat/completions", async () => {
    const { url } = await harness(env, slow);
    const rest = await post(`${url}/chat`, { message: "hi" });
    expect(rest.status).toBe(504);
    expect(ErrorBody.parse(await rest.json())).toMatchObject({ code: "timeout", retryable: true });

    const trpc = await post(`${url}/trpc/chat.complete`, { message: "hi" });
    expect(trpc.status).toBe(504);
    const { error } = (await trpc.json()) as { error: { data: Record<string, unknown> } };
    expect(error.data).toMatchObject({ code: "GATEWAY_TIMEOUT", httpStatus: 504, brook_code: "timeout" });

    const openai = await post(`${url}/v1/chat/completions`, {
      model: "m",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(openai.status).toBe(504);
    expect(OpenAIErrorBody.parse(await openai.json()).error.code).toBe("timeout");
  });

  it("a subscription's run that times out ends with its error event and `return`: the client does not call again", async () => {
    const { url, upstream } = await harness(env, slow);
    const input = encodeURIComponent(JSON.stringify({ message: "hi" }));
    const response = await fetch(`${url}/trpc/chat.stream?input=${input}`, {
      headers: { accept: "text/event-stream" },
    });
    const messages = (await response.text()).split(/\n\n+/).filter((message) => message !== "");
    // GATEWAY_TIMEOUT is a code tRPC's link reconnects on (a second model call): it never travels as a thrown error.
    expect(messages.some((message) => message.startsWith("event: serialized-error"))).toBe(false);
    const events = messages
      .filter((message) => message.startsWith("data: "))
      .map((message) => JSON.parse(message.split("\n", 1)[0]?.slice("data: ".length) ?? ""));
    expect(events.at(-1)).toMatchObject({ type: "error", code: "timeout" });
    expect(messages.at(-1)).toBe("event: return\ndata: ");
    expect(upstream.requests).toHaveLength(1);
  });
});
