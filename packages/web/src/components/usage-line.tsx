import type { Message } from "../chat/conversation.ts";
import { formatCost, formatCount, formatMs, formatRate } from "../lib/format.ts";

/** Tokens in/out, cost, time to first token and speed of one answer. */
export function UsageLine({ message }: { message: Message }) {
  const { usage, timing } = message;
  if (usage === undefined) return null;
  const approx = usage.estimated ? "~" : "";
  const parts: { name: string; text: string }[] = [
    { name: "Input tokens", text: `${approx}${formatCount(usage.input_tokens)} in` },
    { name: "Output tokens", text: `${approx}${formatCount(usage.output_tokens)} out` },
    usage.priced
      ? { name: "Cost", text: formatCost(usage.total_cost) }
      : { name: "Cost (this model has no known price)", text: "no price" },
  ];
  if (timing?.ttft_ms != null) parts.push({ name: "Time to first token", text: `TTFT ${formatMs(timing.ttft_ms)}` });
  if (timing !== undefined && timing.tokens_per_s > 0)
    parts.push({ name: "Speed", text: formatRate(timing.tokens_per_s) });
  if (message.model !== undefined) parts.push({ name: "Model", text: message.model });

  return (
    <dl
      data-testid="usage"
      className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted-foreground tabular-nums"
    >
      {parts.map((part) => (
        <div key={part.name} title={part.name}>
          <dt className="sr-only">{part.name}</dt>
          <dd className={part.name === "Model" ? "font-mono" : undefined}>{part.text}</dd>
        </div>
      ))}
    </dl>
  );
}
