import { BrookHttpError, type McpServerStatus } from "@brook/client";
import { CircleCheck, PlugZap } from "lucide-react";
import { useState } from "react";
import { brook } from "../lib/brook.ts";

interface McpServersNoticeProps {
  servers: readonly McpServerStatus[];
  /** The server a person just connected (the callback's `?mcp_connected=`), if any. */
  connected: string | undefined;
  onDismissConnected(): void;
  /** Brook refused for want of an API key: ask for one, then try again. */
  onUnauthorized(retry: () => void): void;
}

/**
 * The MCP servers that a person connects with OAuth and nobody has yet (or whose grant ended):
 * each with a Connect button, which opens the server's authorization page in this tab; its
 * callback brings the browser back here, and the server's tools come up.
 */
export function McpServersNotice({ servers, connected, onDismissConnected, onUnauthorized }: McpServersNoticeProps) {
  const waiting = servers.filter(
    (server) => server.status === "needs_connect" || typeof server.authorization?.step_up_scope === "string",
  );
  const justConnected = servers.find((server) => server.name === connected && server.status === "connected");
  if (waiting.length === 0 && justConnected === undefined) return null;
  return (
    <div data-testid="mcp-servers-notice" className="border-b border-border bg-muted/40 px-4 py-2 text-sm">
      {justConnected !== undefined && (
        <p role="status" className="flex items-center gap-2">
          <CircleCheck aria-hidden="true" className="size-4 shrink-0 text-emerald-600" />
          <span className="flex-1">
            MCP server <strong className="font-semibold">{justConnected.name}</strong> is connected: its{" "}
            {justConnected.tool_count} tool{justConnected.tool_count === 1 ? "" : "s"} can be used.
          </span>
          <button type="button" onClick={onDismissConnected} className="text-xs underline underline-offset-2">
            OK
          </button>
        </p>
      )}
      <ul className="space-y-1">
        {waiting.map((server) => (
          <ConnectRow key={server.name} server={server} onUnauthorized={onUnauthorized} />
        ))}
      </ul>
    </div>
  );
}

function ConnectRow({ server, onUnauthorized }: { server: McpServerStatus; onUnauthorized(retry: () => void): void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const connect = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { authorization_url: page } = await brook.connectMcpServer(server.name);
      // The authorization server's page, in this tab: its callback brings the browser back.
      window.location.assign(page);
    } catch (failure) {
      if (failure instanceof BrookHttpError && failure.status === 401) onUnauthorized(() => void connect());
      else if (failure instanceof BrookHttpError) setError(failure.message);
      else setError("Brook cannot be reached. Check that it is running.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="flex flex-wrap items-center gap-2">
      <PlugZap aria-hidden="true" className="size-4 shrink-0 text-amber-600" />
      <span className="flex-1">
        MCP server <strong className="font-semibold">{server.name}</strong>{" "}
        {server.status === "needs_connect"
          ? "needs connecting: sign in to it once, and its tools can be used."
          : `needs more access for a tool (${server.authorization?.step_up_scope}): connect it again to grant it.`}
      </span>
      <button
        type="button"
        onClick={() => void connect()}
        disabled={busy}
        aria-label={`Connect ${server.name}`}
        className="rounded-md bg-primary px-2.5 py-1 text-xs font-medium text-primary-foreground hover:opacity-90 disabled:opacity-50"
      >
        Connect
      </button>
      {error !== undefined && (
        <p role="alert" className="w-full text-xs text-danger">
          {error}
        </p>
      )}
    </li>
  );
}
