import type { Health, Stats, Timing, ToolCallEvent, ToolResultEvent, Usage } from "@brook/shared";
import type { Colors } from "../terminal.js";

/** 12345 → "12,345". */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/** US dollars, with enough decimals to show two significant digits of small amounts. */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  const decimals = Math.min(10, Math.max(2, 1 - Math.floor(Math.log10(usd))));
  return `$${usd.toFixed(decimals)}`;
}

/** 312.4 → "312 ms", 1530 → "1.53 s". */
export function formatMilliseconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** 3723 → "1h 2m 3s"; the two largest units only from a day on. */
export function formatUptime(seconds: number): string {
  const whole = Math.floor(seconds);
  const days = Math.floor(whole / 86_400);
  const hours = Math.floor((whole % 86_400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m ${rest}s`;
  if (minutes > 0) return `${minutes}m ${rest}s`;
  return `${rest}s`;
}

/** Collapses whitespace to one line and cuts it to `max` characters. */
export function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The tokens and cost of a run, e.g. "tokens 21 in / 12 out · cost $0.000010", with the cached
 * and reasoning parts when there are any: "tokens 2,000 in (1,024 cached) / 900 out (600 reasoning)".
 */
export function formatUsage(usage: Usage): string {
  const approximate = usage.estimated ? "~" : "";
  // An older server sends neither part.
  const cached = usage.cached_input_tokens ?? 0;
  const reasoning = usage.reasoning_tokens ?? 0;
  const input = `${approximate}${formatCount(usage.input_tokens)} in${cached > 0 ? ` (${formatCount(cached)} cached)` : ""}`;
  const output = `${approximate}${formatCount(usage.output_tokens)} out${reasoning > 0 ? ` (${approximate}${formatCount(reasoning)} reasoning)` : ""}`;
  const tokens = `tokens ${input} / ${output}`;
  const cost = usage.priced ? `cost ${formatCost(usage.total_cost)}` : "cost unknown (no price for this model)";
  return `${tokens}${usage.estimated ? " (estimated)" : ""} · ${cost}`;
}

/** e.g. "ttft 312 ms · duration 498 ms · 64.5 tokens/s", with "thought 1.53 s" after ttft when the model reasoned. */
export function formatTiming(timing: Timing): string {
  const ttft = timing.ttft_ms === null ? "ttft —" : `ttft ${formatMilliseconds(timing.ttft_ms)}`;
  const thought = timing.reasoning_ms === undefined ? "" : ` · thought ${formatMilliseconds(timing.reasoning_ms)}`;
  return `${ttft}${thought} · duration ${formatMilliseconds(timing.duration_ms)} · ${timing.tokens_per_s.toFixed(1)} tokens/s`;
}

/** The last line of a run: model, usage and, for a complete one, timing. */
export function formatRunSummary(model: string | undefined, usage: Usage, timing?: Timing): string {
  return [model, formatUsage(usage), timing === undefined ? undefined : formatTiming(timing)]
    .filter((part) => part !== undefined)
    .join(" · ");
}

/**
 * Why a complete answer ended, when the model did not end it itself: the end of a run's last line
 * says that the answer was cut, and by what. Undefined for an answer the model finished.
 */
export function describeFinish(reason: string): string | undefined {
  switch (reason) {
    case "stop":
    case "tool_calls":
      return undefined;
    case "length":
      return "cut: the answer reached its token limit (finish_reason length)";
    case "content_filter":
      return "cut by the model's content filter (finish_reason content_filter)";
    case "max_tool_steps":
      return "cut: the model asked for more rounds of tools than the server allows (finish_reason max_tool_steps)";
    default:
      return `finish_reason ${reason}`;
  }
}

export function formatToolCall(event: ToolCallEvent, colors: Colors): string {
  return `${colors.cyan("⚙")} ${colors.bold(event.name)} ${colors.dim(oneLine(event.arguments))}`;
}

export function formatToolResult(event: ToolResultEvent, colors: Colors): string {
  return event.is_error
    ? `${colors.red("✗")} ${colors.bold(event.name)} failed: ${oneLine(event.result)}`
    : `${colors.green("↳")} ${colors.bold(event.name)} ${colors.dim(oneLine(event.result))}`;
}

/** The cached and reasoning parts of the token totals, when there are any: " (1,024 cached in · 600 reasoning)". */
function formatParts(tokens: Stats["tokens"]): string {
  const parts = [
    (tokens.cached_input ?? 0) > 0 ? `${formatCount(tokens.cached_input)} cached in` : undefined,
    (tokens.reasoning ?? 0) > 0 ? `${formatCount(tokens.reasoning)} reasoning` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? "" : ` (${parts.join(" · ")})`;
}

/** Label/value lines with the labels padded to one column. */
function table(rows: readonly (readonly [string, string])[], colors: Colors): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${colors.dim(label.padEnd(width))}  ${value}`).join("\n");
}

export function formatHealth(health: Health, url: string, colors: Colors): string {
  const status = health.status === "ok" ? colors.green("ok") : colors.yellow(health.status);
  const mode =
    health.mode === "demo"
      ? `${colors.yellow("demo")} (offline demo model; set OPENAI_API_KEY or OPENAI_BASE_URL on the server for a real one)`
      : health.mode;
  return table(
    [
      ["status", `${status} · Brook ${health.version} at ${url}`],
      ["mode", mode],
      ["model", health.model],
      ["uptime", formatUptime(health.uptime_s)],
      ["active runs", formatCount(health.active_runs)],
      ...(health.model_server === undefined || health.model_server.status === "unchecked"
        ? []
        : [
            [
              "model server",
              health.model_server.status === "ok"
                ? colors.green("ok")
                : `${colors.yellow(health.model_server.status.replaceAll("_", " "))} · ${health.model_server.detail}`,
            ] as const,
          ]),
      ...(health.redis === undefined
        ? []
        : [
            [
              "redis",
              health.redis.status === "connected"
                ? colors.green("connected")
                : `${colors.yellow(health.redis.status)}${health.redis.last_error === null ? "" : ` · ${health.redis.last_error}`}`,
            ] as const,
          ]),
    ],
    colors,
  );
}

function formatPercentiles(percentiles: Stats["ttft_ms"]): string {
  if (percentiles.count === 0 || percentiles.p50 === null) return "—";
  const value = (ms: number | null) => (ms === null ? "—" : formatMilliseconds(ms));
  return `p50 ${value(percentiles.p50)} · p90 ${value(percentiles.p90)} · p99 ${value(percentiles.p99)} (${formatCount(percentiles.count)} ${percentiles.count === 1 ? "run" : "runs"})`;
}

export function formatStats(stats: Stats, colors: Colors): string {
  const { requests, tokens } = stats;
  const summary = table(
    [
      [
        "requests",
        `${formatCount(requests.total)} total · ${formatCount(requests.streaming)} streaming · ${formatCount(requests.non_streaming)} non-streaming`,
      ],
      [
        "outcomes",
        `${formatCount(requests.succeeded)} succeeded · ${formatCount(requests.failed)} failed · ${formatCount(requests.cancelled)} cancelled · ${formatCount(stats.active_runs)} active`,
      ],
      [
        "tokens",
        `${formatCount(tokens.input)} in · ${formatCount(tokens.output)} out · ${formatCount(tokens.total)} total${formatParts(tokens)}`,
      ],
      ["cost", formatCost(stats.total_cost)],
      ["ttft", formatPercentiles(stats.ttft_ms)],
      ["duration", formatPercentiles(stats.duration_ms)],
      ["since", `${stats.since} (up ${formatUptime(stats.uptime_s)})`],
    ],
    colors,
  );
  const models = Object.entries(stats.models).sort(([, a], [, b]) => b.requests - a.requests);
  if (models.length === 0) return summary;
  const header = ["model", "requests", "tokens in", "tokens out", "cost"];
  const rows = models.map(([name, model]) => [
    name,
    formatCount(model.requests),
    formatCount(model.input_tokens),
    formatCount(model.output_tokens),
    formatCost(model.total_cost),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  // The model name is text (left-aligned); the numbers line up on the right.
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ");
  return `${summary}\n\n${colors.dim(line(header))}\n${rows.map(line).join("\n")}`;
}
