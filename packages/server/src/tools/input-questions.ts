import { AsyncLocalStorage } from "node:async_hooks";
import type { ElicitResult } from "@modelcontextprotocol/client";
import type { ElicitationRequest } from "./mcp-connection.js";

/** A server's question during a tool call (form mode), for a person to answer. */
export interface InputQuestion {
  server: string;
  message: string;
  requestedSchema: Record<string, unknown>;
}

/** What the person answered (or why nobody did: `note` goes into the call's result). */
export interface InputReply {
  action: "accept" | "decline" | "cancel";
  content?: Record<string, string | number | boolean | string[]> | undefined;
  note?: string | undefined;
}

/** How a call asks its run's person; absent where nobody can answer (`/v1`, whole answers). */
export type AskInput = (question: InputQuestion) => Promise<InputReply>;

/** A tool call in flight: how it may ask, and what its result will say besides the tool's text. */
export interface CallInFlight {
  readonly server: string;
  readonly ask: AskInput | undefined;
  readonly notes: string[];
  /** Told while a person is being asked (the tool's own time stops meanwhile). */
  readonly asking?: ((asking: boolean) => void) | undefined;
}

/**
 * Which tool call a server's question (`elicitation/create`) belongs to. Over HTTP the question
 * arrives on the call's own response stream, read within the call's async context, so the call is
 * known exactly; on stdio (one stream for everything) it is the server's only call in flight, and
 * with several it cannot be told: the question is declined.
 */
export class CallsInFlight {
  readonly #current = new AsyncLocalStorage<CallInFlight>();
  readonly #byServer = new Map<string, Set<CallInFlight>>();

  /** Runs `send` as `call`: questions that arrive meanwhile may be its. */
  async run<T>(call: CallInFlight, send: () => Promise<T>): Promise<T> {
    const calls = this.#byServer.get(call.server) ?? new Set<CallInFlight>();
    this.#byServer.set(call.server, calls);
    calls.add(call);
    try {
      return await this.#current.run(call, send);
    } finally {
      calls.delete(call);
      if (calls.size === 0) this.#byServer.delete(call.server);
    }
  }

  /** Answers `server`'s question through the call it belongs to; declined (and said so in the result) when none can ask. */
  async answer(server: string, request: ElicitationRequest): Promise<ElicitResult> {
    const question = `The MCP server "${server}" asked for input during the call ("${request.message}")`;
    const current = this.#current.getStore();
    const inFlight = [...(this.#byServer.get(server) ?? [])];
    const call = current?.server === server ? current : inFlight.length === 1 ? inFlight[0] : undefined;
    if (call === undefined) {
      const note = `[${question}; Brook declined: it cannot tell which of the calls in flight asked.]`;
      for (const each of inFlight) each.notes.push(note);
      return { action: "decline" };
    }
    if (request.mode === "url") {
      call.notes.push(`[${question} at a URL; Brook declined: it asks people with forms only.]`);
      return { action: "decline" };
    }
    if (call.ask === undefined) {
      call.notes.push(`[${question}; Brook declined: it has no way to ask the user here.]`);
      return { action: "decline" };
    }
    call.asking?.(true);
    try {
      const reply = await call.ask({
        server,
        message: request.message,
        requestedSchema: request.requestedSchema as Record<string, unknown>,
      });
      if (reply.note !== undefined) call.notes.push(reply.note);
      return reply.action === "accept" ? { action: "accept", content: reply.content ?? {} } : { action: reply.action };
    } finally {
      call.asking?.(false);
    }
  }
}
