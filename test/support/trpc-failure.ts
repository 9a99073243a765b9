import type { AppRouter } from "@brook/server";
import { TRPCClientError } from "@trpc/client";
import { expect } from "vitest";

/** The tRPC error a call must fail with (the test fails if it succeeds or fails otherwise). */
export async function trpcFailure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}
