import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BrookError } from "../../errors/brook-error.js";
import { publicProcedure, type TrpcServices, t } from "./trpc.js";

// A router of procedures that fail in each way, served through tRPC's real HTTP handler.
const router = t.router({
  bug: t.procedure.query(() => {
    throw new Error("secret detail from /srv/brook/internal.ts");
  }),
  catalogued: publicProcedure.query(() => {
    throw new BrookError("rate_limited", "slow down");
  }),
  strict: t.procedure.input(z.object({ message: z.string() })).query(({ input }) => input.message),
});

async function call(path: string, input?: unknown) {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req: new Request(`http://brook.test/trpc/${path}${query}`),
    router,
    createContext: () => ({
      services: {} as TrpcServices,
      authorized: true,
      owner: undefined,
      admin: true,
      countCall: async () => {},
    }),
  });
  return { status: response.status, body: (await response.json()) as { error: { message: string; data: never } } };
}

describe("tRPC error formatting", () => {
  it("hides the message and stack of unexpected errors", async () => {
    const { status, body } = await call("bug");
    expect(status).toBe(500);
    expect(body.error.message).toBe("Internal error.");
    expect(body.error.data).toMatchObject({ code: "INTERNAL_SERVER_ERROR", brook_code: "internal", retryable: false });
    expect(JSON.stringify(body)).not.toMatch(/secret|internal\.ts|stack/);
  });

  it("passes catalogued errors on with their code and retryability", async () => {
    const { status, body } = await call("catalogued");
    expect(status).toBe(429);
    expect(body.error.message).toBe("slow down");
    expect(body.error.data).toMatchObject({ code: "TOO_MANY_REQUESTS", brook_code: "rate_limited", retryable: true });
  });

  it("names the bad fields of invalid input", async () => {
    const { status, body } = await call("strict", { message: 42 });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^Invalid request: message: /);
    expect(body.error.data).toMatchObject({
      code: "BAD_REQUEST",
      brook_code: "bad_request",
      fields: { message: [expect.any(String)] },
    });
  });
});
