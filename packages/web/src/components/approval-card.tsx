import { ShieldAlert, ShieldCheck, ShieldX } from "lucide-react";
import { useState } from "react";
import type { ToolCall } from "../chat/conversation.ts";
import { brook, describeError } from "../lib/brook.ts";

type Approval = NonNullable<ToolCall["approval"]>;

const decided: Record<NonNullable<Approval["decision"]>, string> = {
  sent: "Answer sent",
  approved: "Approved",
  denied: "Denied",
  timed_out: "Denied: nobody answered in time",
};

/**
 * A tool call that waits for a person (TOOL_APPROVAL): the tool, its server and arguments, with
 * Approve and Deny (and an optional reason); once answered, what was decided.
 */
export function ApprovalCard({
  tool,
  approval,
  runId,
}: {
  tool: ToolCall;
  approval: Approval;
  runId?: string | undefined;
}) {
  const [sent, setSent] = useState<"approved" | "denied" | undefined>(undefined);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const decision = approval.decision ?? (sent === undefined ? undefined : sent);
  const pending = decision === undefined && runId !== undefined;

  async function answer(approved: boolean) {
    if (runId === undefined) return;
    setBusy(true);
    setFailure(undefined);
    try {
      if (approved) await brook.approve(runId, approval.id);
      else await brook.deny(runId, approval.id, reason.trim() === "" ? undefined : reason.trim());
      setSent(approved ? "approved" : "denied");
    } catch (error) {
      const { code, message } = describeError(error);
      // Someone answered first (another tab, the CLI): the run's events will say what.
      if (code === "already_answered") setSent(approved ? "approved" : "denied");
      else setFailure(message);
    } finally {
      setBusy(false);
    }
  }

  const Icon = decision === undefined ? ShieldAlert : decision === "approved" ? ShieldCheck : ShieldX;
  return (
    <section
      data-testid="approval-card"
      data-tool={tool.name}
      data-decision={decision ?? "pending"}
      aria-label={`Approval for ${tool.name}`}
      className="space-y-2 rounded-xl border border-amber-500/40 bg-amber-500/5 px-3 py-2.5 text-sm"
    >
      <header className="flex flex-wrap items-center gap-2">
        <Icon aria-hidden="true" className="size-4 text-amber-600 dark:text-amber-400" />
        <span className="font-medium">
          <span className="font-mono text-[13px]">{tool.name}</span>
          {approval.server !== undefined && <span className="text-muted-foreground"> on {approval.server}</span>}
        </span>
        <span data-testid="approval-state" className="ml-auto text-xs text-muted-foreground">
          {decision === undefined ? "Needs your approval" : decided[decision]}
        </span>
      </header>
      <pre className="max-h-48 overflow-auto rounded-lg bg-muted p-2 font-mono text-xs whitespace-pre-wrap">
        {tool.arguments === "" ? "(no arguments)" : tool.arguments}
      </pre>
      {pending && (
        <div className="flex flex-wrap items-center gap-2">
          <input
            aria-label="Reason (optional)"
            placeholder="Reason (optional)"
            value={reason}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            className="min-w-40 flex-1 rounded-lg border border-border bg-background px-2 py-1 text-sm"
          />
          <button
            type="button"
            disabled={busy}
            onClick={() => void answer(true)}
            className="rounded-lg bg-emerald-600 px-3 py-1 text-sm font-medium text-white disabled:opacity-50"
          >
            Approve
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => void answer(false)}
            className="rounded-lg border border-danger/40 px-3 py-1 text-sm font-medium text-danger disabled:opacity-50"
          >
            Deny
          </button>
        </div>
      )}
      {failure !== undefined && (
        <p role="alert" className="text-xs text-danger">
          {failure}
        </p>
      )}
    </section>
  );
}
