import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { toBrookError } from "./upstream-errors.js";

const running = new AbortController().signal;

/** What the SDK throws for an HTTP error answer with an OpenAI-style body. */
function httpError(status: number, error: Record<string, unknown>) {
  return OpenAI.APIError.generate(status, { error }, undefined, new Headers());
}

/** What Brook's stream reader throws for `data: {"error": …}` inside a stream. */
function streamError(error: Record<string, unknown>) {
  return new OpenAI.APIError(undefined, error, undefined, new Headers());
}

describe("toBrookError", () => {
  it("reports a redirect it did not follow as such, naming where it pointed, and not worth retrying", () => {
    const redirect = OpenAI.APIError.generate(
      307,
      undefined,
      undefined,
      new Headers({ location: "https://elsewhere.example/v1/chat/completions" }),
    );
    const error = toBrookError(redirect, running);
    expect(error.code).toBe("upstream_invalid_answer");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/redirected the request.*HTTP 307 to https:\/\/elsewhere\.example.*OPENAI_BASE_URL/);
  });

  it("embeds the server's message once, without a second full stop", () => {
    const http = toBrookError(
      httpError(401, { message: "Incorrect API key provided.", code: "invalid_api_key" }),
      running,
    );
    expect(http.message).toBe(
      "The model server rejected the API key (HTTP 401: Incorrect API key provided); check OPENAI_API_KEY.",
    );
    const inStream = toBrookError(streamError({ message: "The server had an error.", type: "server_error" }), running);
    expect(inStream.message).toBe("The model server failed (in its stream: The server had an error).");
    expect(`${http.message} ${inStream.message}`).not.toMatch(/\.\./);
  });

  it("maps errors inside a stream by their code and type, as the HTTP ones by their status", () => {
    const cases: [Record<string, unknown>, string, boolean][] = [
      [
        { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
        "upstream_auth",
        false,
      ],
      [{ message: "Invalid token", type: "authentication_error" }, "upstream_auth", false],
      [{ message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" }, "upstream_rate_limited", true],
      [
        { message: "You exceeded your current quota.", type: "insufficient_quota", code: "insufficient_quota" },
        "upstream_quota",
        false,
      ],
      [
        { message: "Too long", type: "invalid_request_error", code: "context_length_exceeded" },
        "upstream_bad_request",
        false,
      ],
      [{ message: "Bad input", type: "invalid_request_error" }, "upstream_bad_request", false],
      [{ message: "Overloaded", type: "server_error" }, "upstream_error", true],
      [{ message: "Something odd" }, "upstream_error", true],
      // vLLM and OpenRouter put the HTTP status in `code`; LiteLLM as a string.
      [{ message: "max_tokens is too large", type: "BadRequestError", code: 400 }, "upstream_bad_request", false],
      [{ message: "No auth", code: 401 }, "upstream_auth", false],
      [{ message: "Slow down", code: "429" }, "upstream_rate_limited", true],
      [{ message: "Provider returned error", code: 502 }, "upstream_error", true],
    ];
    for (const [body, code, retryable] of cases) {
      const error = toBrookError(streamError(body), running);
      expect({ body, code: error.code, retryable: error.retryable }).toEqual({ body, code, retryable });
    }
  });

  it("keeps the status first for HTTP answers, but an exhausted quota is not a rate limit", () => {
    expect(toBrookError(httpError(401, { message: "x", type: "invalid_request_error" }), running).code).toBe(
      "upstream_auth",
    );
    expect(toBrookError(httpError(429, { message: "Slow down" }), running)).toMatchObject({
      code: "upstream_rate_limited",
      retryable: true,
    });
    const quota = toBrookError(
      httpError(429, { message: "You exceeded your current quota.", code: "insufficient_quota" }),
      running,
    );
    expect(quota).toMatchObject({ code: "upstream_quota", retryable: false });
    expect(quota.message).toContain("quota");
    expect(toBrookError(httpError(503, { message: "Unavailable" }), running).code).toBe("upstream_error");
  });

  it("says what a 404 likely means: a base URL without its /v1, or an unknown model", () => {
    const path = toBrookError(httpError(404, { message: "Invalid URL (POST /chat/completions)" }), running);
    expect(path.code).toBe("upstream_bad_request");
    expect(path.message).toBe(
      "The model server has nothing at that address (HTTP 404: Invalid URL (POST /chat/completions)); check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1.",
    );
    const bare = toBrookError(OpenAI.APIError.generate(404, undefined, "404 page not found", new Headers()), running);
    expect(bare.message).toContain("check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1");
    const model = toBrookError(httpError(404, { message: 'model "llama9" not found, try pulling it first' }), running);
    expect(model.code).toBe("upstream_bad_request");
    expect(model.message).toContain("check OPENAI_MODEL");
    expect(model.message).not.toContain("OPENAI_BASE_URL");
  });
});
