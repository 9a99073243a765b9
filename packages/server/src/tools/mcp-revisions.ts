import type { ClientOptions, Progress } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

/**
 * How Brook picks a protocol revision per server: it asks `server/discover` first (2026-07-28,
 * stateless) and, when the server does not know it, falls back to the `initialize` handshake of
 * 2025-11-25 (and the older revisions such servers may answer with).
 */
export const versionNegotiation: NonNullable<ClientOptions["versionNegotiation"]> = { mode: "auto" };

/**
 * The SDK's stdio transport, asking `server/discover` on the server's own pipe. (The SDK's base
 * class would ask on a second copy of the process first: one start per connection is what a
 * server that binds a port or takes a lock expects.)
 */
export class StdioTransport extends StdioClientTransport {}

/**
 * A progress report the server sent, as opposed to the one the SDK makes up while it answers a
 * 2026-07-28 `input_required` round ("Fulfilling input required by 'tools/call' (round 1)"): the
 * run says that it waits for input in its own way.
 */
export function fromServer(progress: Progress): boolean {
  return !progress.message?.startsWith("Fulfilling input required by ");
}
