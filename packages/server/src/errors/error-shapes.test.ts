import { type ErrorCode, errorCatalogue } from "@brook/shared";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BrookError } from "./brook-error.js";
import { asBrookError, callerLeft, clientErrorRefusal, errorEvent, fromErrorEvent } from "./error-shapes.js";
import { InputError } from "./input-error.js";

const usage = {
  input_tokens: 1,
  output_tokens: 2,
  total_tokens: 3,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

describe("the error catalogue", () => {
  it("gives every code a tRPC code that tRPC sends with the same HTTP status", () => {
    for (const [code, spec] of Object.entries(errorCatalogue)) {
      const status = getHTTPStatusCodeFromError(new TRPCError({ code: spec.trpc }));
      expect({ code, status }).toEqual({ code, status: spec.status });
    }
  });

  it("keeps Brook's own rate limit apart from the model server's", () => {
    expect(errorCatalogue.rate_limited.message).toMatch(/RATE_LIMIT_RPM/);
    expect(errorCatalogue.upstream_rate_limited.message).toMatch(/model server/);
  });
});

describe("error shapes", () => {
  it("turns an error event back into the BrookError it reports, usage included", () => {
    const codes = Object.keys(errorCatalogue) as ErrorCode[];
    for (const code of codes) {
      const error = fromErrorEvent(errorEvent(new BrookError(code, `because ${code}`), usage));
      expect(error).toBeInstanceOf(BrookError);
      expect(error).toMatchObject({ code, message: `because ${code}`, usage });
    }
  });

  it("reports a caller that left as cancelled, and Brook's own failures as they are", () => {
    const left = new AbortController();
    left.abort();
    expect(callerLeft(new Error("aborted"), left.signal)).toMatchObject({ code: "cancelled" });
    const timeout = new BrookError("timeout");
    expect(callerLeft(timeout, left.signal)).toBe(timeout);
    const bug = new Error("bug");
    expect(callerLeft(bug, new AbortController().signal)).toBe(bug);
  });

  it("maps Fastify's refusals to the catalogue, naming what was wrong", () => {
    const fastify = (statusCode: number, code: string, message: string) =>
      Object.assign(new Error(message), { statusCode, code });
    const badUrl = asBrookError(fastify(400, "FST_ERR_BAD_URL", "'%ff' is not a valid url component"));
    expect(badUrl).toMatchObject({ isBug: false, error: { code: "bad_request" } });
    expect((badUrl.error as InputError).fields).toHaveProperty("url");
    const longParam = asBrookError(fastify(414, "FST_ERR_MAX_PARAM_LENGTH", "'x' is exceeding the max param length"));
    expect(longParam.error.status).toBe(400);
    expect((longParam.error as InputError).fields.url?.[0]).toMatch(/longer than 5000/);
    expect(asBrookError(fastify(403, "", "Forbidden")).error.code).toBe("not_found");
    expect(asBrookError(fastify(413, "FST_ERR_CTP_BODY_TOO_LARGE", "too large")).error.code).toBe("payload_too_large");
    expect(asBrookError(z.string().safeParse(1).error).error).toBeInstanceOf(InputError);
    expect(asBrookError(new Error("a bug"))).toMatchObject({ isBug: true, error: { code: "internal" } });
  });

  it("maps Node's refusals: too slow is request_timeout, headers too large name the headers", () => {
    expect(clientErrorRefusal({ code: "ERR_HTTP_REQUEST_TIMEOUT" })).toMatchObject({ code: "request_timeout" });
    const headers = clientErrorRefusal({ code: "HPE_HEADER_OVERFLOW" });
    expect(headers).toBeInstanceOf(InputError);
    expect((headers as InputError).fields).toHaveProperty("headers");
    expect((clientErrorRefusal({ code: "HPE_INVALID_METHOD" }) as InputError).fields).toHaveProperty("request");
  });
});
