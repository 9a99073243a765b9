import type { Stats } from "@brook/client";
import { formatCount, formatMs } from "../lib/format.ts";
import type { StatsSample } from "./stats-history.ts";

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** Requests and tokens over the time this page has been open. */
export function TotalsCharts({ history }: { history: readonly StatsSample[] }) {
  return (
    <div className="grid grid-cols-2 gap-3">
      <TimeChart id="requests" label="Requests" history={history} value={(sample) => sample.requests} />
      <TimeChart id="tokens" label="Tokens" history={history} value={(sample) => sample.tokens} />
    </div>
  );
}

/** How long answers took to start and to finish: the percentiles Brook keeps. */
export function LatencyCharts({ stats }: { stats: Stats }) {
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <PercentileChart id="ttft" label="Time to first token" percentiles={stats.ttft_ms} />
      <PercentileChart id="duration" label="Duration" percentiles={stats.duration_ms} />
    </div>
  );
}

const width = 100;
const height = 32;

/** A total as it grew, one step per sample, scaled between its lowest and highest value. */
function TimeChart({
  id,
  label,
  history,
  value,
}: {
  id: string;
  label: string;
  history: readonly StatsSample[];
  value(sample: StatsSample): number;
}) {
  const first = history[0];
  const last = history.at(-1);
  const values = history.map(value);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const start = first?.at ?? 0;
  const span = Math.max((last?.at ?? 0) - start, 1);
  const x = (sample: StatsSample) => ((sample.at - start) / span) * width;
  // A flat history sits in the middle; a growing one fills the height.
  const y = (amount: number) =>
    high === low ? height / 2 : height - ((amount - low) / (high - low)) * (height - 2) - 1;
  const line = history
    .map((sample, index) => {
      const point = `${x(sample).toFixed(2)} ${y(value(sample)).toFixed(2)}`;
      return index === 0 ? `M${point}` : `H${x(sample).toFixed(2)} V${y(value(sample)).toFixed(2)}`;
    })
    .join(" ");
  const growth = last === undefined || first === undefined ? 0 : value(last) - value(first);

  return (
    <figure data-testid={`chart-${id}`} className="rounded-xl border border-border px-3 pt-2.5 pb-2">
      <figcaption className="flex items-baseline justify-between gap-2 text-xs text-muted-foreground">
        <span>{label}</span>
        <span className="text-sm font-semibold text-foreground tabular-nums">
          {last === undefined ? "—" : formatCount(value(last))}
        </span>
      </figcaption>
      {history.length < 2 || first === undefined || last === undefined ? (
        <p className="flex h-14 items-center text-xs text-muted-foreground">Sampled while this page is open.</p>
      ) : (
        <>
          <svg
            role="img"
            aria-label={`${label}: ${formatCount(value(first))} at ${time.format(first.at)}, ${formatCount(value(last))} at ${time.format(last.at)}`}
            viewBox={`0 0 ${width} ${height}`}
            preserveAspectRatio="none"
            className="mt-1 h-14 w-full overflow-visible"
          >
            <path d={`${line} V${height} H0 Z`} className="fill-accent/15" />
            <path
              d={line}
              fill="none"
              className="stroke-accent"
              strokeWidth={1.5}
              strokeLinejoin="round"
              vectorEffect="non-scaling-stroke"
            />
          </svg>
          <div className="mt-1 flex justify-between gap-2 text-[11px] text-muted-foreground tabular-nums">
            <span>since {time.format(first.at)}</span>
            <span>+{formatCount(growth)}</span>
          </div>
        </>
      )}
    </figure>
  );
}

/** p50, p90 and p99 as bars on one scale: how the times spread since the statistics were last reset. */
function PercentileChart({ id, label, percentiles }: { id: string; label: string; percentiles: Stats["ttft_ms"] }) {
  const bars = (["p50", "p90", "p99"] as const).map((name) => ({ name, ms: percentiles[name] }));
  const longest = Math.max(...bars.map((bar) => bar.ms ?? 0), 1);
  return (
    <figure data-testid={`chart-${id}`} className="rounded-xl border border-border px-3 py-2.5">
      <figcaption className="flex items-baseline justify-between gap-2 text-xs text-muted-foreground">
        <span>{label}</span>
        <span className="tabular-nums">
          {percentiles.count === 0 ? "no answers" : `${formatCount(percentiles.count)} in 10 min`}
        </span>
      </figcaption>
      <dl className="mt-2 space-y-1.5 text-xs">
        {bars.map((bar) => (
          <div key={bar.name} className="grid grid-cols-[2.25rem_1fr_4rem] items-center gap-2">
            <dt className="text-muted-foreground">{bar.name}</dt>
            <dd className="h-2.5 overflow-hidden rounded-full bg-muted">
              <div
                data-testid="bar"
                className="h-full rounded-full bg-accent"
                style={{ width: bar.ms === null ? 0 : `${Math.max((bar.ms / longest) * 100, 2)}%` }}
              />
            </dd>
            <dd className="text-right tabular-nums">{bar.ms === null ? "—" : formatMs(bar.ms)}</dd>
          </div>
        ))}
      </dl>
    </figure>
  );
}
