import { TrpcErrorData } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { type ExitCode, exitCodes } from "./exit-codes.js";

export interface Failure {
  /** One line for people: what went wrong and, when known, the stable code. */
  message: string;
  exitCode: ExitCode;
}

/** Turns what a client call threw into one clear line and an exit code, never a stack. */
export function describeFailure(error: unknown, url: string): Failure {
  if (!(error instanceof TRPCClientError)) {
    return { message: error instanceof Error ? error.message : String(error), exitCode: exitCodes.error };
  }
  const data = TrpcErrorData.safeParse(error.data);
  if (data.success) {
    const { brook_code: code, fields } = data.data;
    const invalid = code === "bad_request" || code === "payload_too_large";
    const details =
      fields === undefined
        ? error.message
        : `invalid request: ${Object.entries(fields)
            .map(([field, problems]) => `${field}: ${problems.join(", ")}`)
            .join("; ")}`;
    const hint = code === "unauthorized" ? " Give one with --api-key or BROOK_API_KEY." : "";
    return {
      message: `${details} (${code ?? data.data.code})${hint}`,
      exitCode: invalid ? exitCodes.usage : exitCodes.error,
    };
  }
  const network = networkProblem(error);
  if (network !== undefined) {
    return { message: `cannot reach Brook at ${url} (${network})`, exitCode: exitCodes.error };
  }
  return {
    message: `${url} does not answer like a Brook server (${error.message})`,
    exitCode: exitCodes.error,
  };
}

/** The system error code (ECONNREFUSED, ENOTFOUND…) of a failed fetch, if that is what happened. */
function networkProblem(error: Error): string | undefined {
  let fetchFailed = false;
  for (const cause of causes(error)) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_\w+)$/.test(code)) return code;
    if (cause.message === "fetch failed") fetchFailed = true;
  }
  return fetchFailed ? "connection failed" : undefined;
}

/** The error and its chain of causes. */
function causes(error: Error): Error[] {
  const chain: Error[] = [];
  for (let cause: unknown = error; cause instanceof Error && !chain.includes(cause); cause = cause.cause) {
    chain.push(cause);
  }
  return chain;
}
