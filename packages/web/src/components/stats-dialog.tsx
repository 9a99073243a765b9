import type { Stats } from "@brook/client";
import { CircleAlert, RefreshCw } from "lucide-react";
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { brook, describeError, isUnauthorized } from "../lib/brook.ts";
import { formatCost, formatCount } from "../lib/format.ts";
import { recordStats, useStatsHistory } from "../stats/stats-history.ts";
import { buttonStyles, Modal } from "./modal.tsx";

// Fetched the first time the dialog opens; without them (a rebuilt Brook no longer has this page's
// files) the figures stay.
function NoCharts(_: object) {
  return null;
}
const charts = () =>
  import("../stats/stats-charts.tsx").catch(() => ({ TotalsCharts: NoCharts, LatencyCharts: NoCharts }));
const TotalsCharts = lazy(() => charts().then((module) => ({ default: module.TotalsCharts })));
const LatencyCharts = lazy(() => charts().then((module) => ({ default: module.LatencyCharts })));

/** While the dialog is open, its numbers follow the service this often. */
const REFRESH_MS = 5000;

interface StatsDialogProps {
  open: boolean;
  onClose(): void;
  onUnauthorized(retry: () => void): void;
}

/** The service's statistics since its last reset: requests, tokens, cost, latency, per model. */
export function StatsDialog({ open, onClose, onUnauthorized }: StatsDialogProps) {
  const [stats, setStats] = useState<Stats>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);

  const history = useStatsHistory();

  /** `quietly`: a refresh of its own, which neither spins the button nor asks for a key. */
  const load = useCallback(
    async (quietly = false) => {
      if (!quietly) {
        setLoading(true);
        setError(undefined);
      }
      try {
        const current = await brook.trpc.stats.get.query();
        recordStats(current);
        setStats(current);
        setError(undefined);
      } catch (failure) {
        if (isUnauthorized(failure) && !quietly) onUnauthorized(() => void load());
        setError(describeError(failure).message);
      } finally {
        if (!quietly) setLoading(false);
      }
    },
    [onUnauthorized],
  );

  useEffect(() => {
    if (!open) return;
    void load();
    const timer = setInterval(() => void load(true), REFRESH_MS);
    return () => clearInterval(timer);
  }, [open, load]);

  const models = Object.entries(stats?.models ?? {}).sort(([, a], [, b]) => b.requests - a.requests);
  return (
    <Modal
      open={open}
      title="Usage statistics"
      onClose={onClose}
      wide
      footer={
        <button type="button" className={buttonStyles.secondary} onClick={() => void load()} disabled={loading}>
          <RefreshCw aria-hidden="true" className={`size-3.5 ${loading ? "animate-spin" : ""}`} />
          Refresh
        </button>
      }
    >
      {error !== undefined && (
        <div
          role="alert"
          className="mb-4 flex items-center gap-2 rounded-xl border border-danger/30 bg-danger/5 px-3 py-2 text-sm"
        >
          <CircleAlert aria-hidden="true" className="size-4 text-danger" />
          <span className="flex-1">{error}</span>
          <button type="button" className="text-xs font-medium underline" onClick={() => void load()}>
            Retry
          </button>
        </div>
      )}
      {stats === undefined ? (
        error === undefined && <p className="text-sm text-muted-foreground">Loading…</p>
      ) : (
        <div data-testid="stats" className="space-y-5">
          <Suspense fallback={<div className="h-64 sm:h-80" />}>
            <TotalsCharts history={history} />
            <div className="grid grid-cols-2 gap-3">
              <Figure label="Cost" value={formatCost(stats.total_cost)} />
              <Figure label="Active runs" value={formatCount(stats.active_runs)} />
            </div>
            <LatencyCharts stats={stats} />
          </Suspense>
          <dl className="grid grid-cols-2 gap-x-6 gap-y-1.5 text-sm sm:grid-cols-3">
            <Row label="Succeeded" value={formatCount(stats.requests.succeeded)} />
            <Row label="Failed" value={formatCount(stats.requests.failed)} />
            <Row label="Cancelled" value={formatCount(stats.requests.cancelled)} />
            <Row label="Streaming" value={formatCount(stats.requests.streaming)} />
            <Row label="Input tokens" value={formatCount(stats.tokens.input)} />
            <Row label="Output tokens" value={formatCount(stats.tokens.output)} />
          </dl>
          <div>
            <h3 className="mb-2 text-sm font-medium">Per model</h3>
            {models.length === 0 ? (
              <p className="text-sm text-muted-foreground">No requests yet.</p>
            ) : (
              // On a phone the model's name takes a row of its own, so that every figure fits beside the others.
              <div data-testid="models" className="overflow-x-auto rounded-xl border border-border">
                <table className="w-full text-sm tabular-nums">
                  <thead className="bg-muted/60 text-left text-xs text-muted-foreground">
                    <tr>
                      <th className="hidden px-3 py-2 font-medium sm:table-cell">Model</th>
                      <th className="px-2 py-2 text-right font-medium sm:px-3">Requests</th>
                      <th className="px-2 py-2 text-right font-medium sm:px-3">In</th>
                      <th className="px-2 py-2 text-right font-medium sm:px-3">Out</th>
                      <th className="px-2 py-2 text-right font-medium sm:px-3">Cost</th>
                    </tr>
                  </thead>
                  {models.map(([model, row]) => (
                    <tbody key={model} className="border-t border-border">
                      <tr className="sm:hidden">
                        <th
                          colSpan={4}
                          scope="rowgroup"
                          className="px-2 pt-2 text-left font-mono text-xs font-normal break-all"
                        >
                          {model}
                        </th>
                      </tr>
                      <tr>
                        <td className="hidden px-3 py-2 font-mono text-xs break-all sm:table-cell">{model}</td>
                        <td className="px-2 py-2 text-right sm:px-3">{formatCount(row.requests)}</td>
                        <td className="px-2 py-2 text-right sm:px-3">{formatCount(row.input_tokens)}</td>
                        <td className="px-2 py-2 text-right sm:px-3">{formatCount(row.output_tokens)}</td>
                        <td className="px-2 py-2 text-right sm:px-3">{formatCost(row.total_cost)}</td>
                      </tr>
                    </tbody>
                  ))}
                </table>
              </div>
            )}
          </div>
          <p className="text-xs text-muted-foreground">Since {new Date(stats.since).toLocaleString()}</p>
        </div>
      )}
    </Modal>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className="rounded-xl border border-border bg-surface/50 px-3 py-2.5">
      <div className="text-xs text-muted-foreground">{label}</div>
      <div className="text-lg font-semibold tabular-nums">{value}</div>
    </div>
  );
}

function Row({ label, value }: { label: string; value: string }) {
  return (
    <div className="flex justify-between gap-2">
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="tabular-nums">{value}</dd>
    </div>
  );
}
