const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** Dollars with enough digits to show what one short answer costs. */
export function formatCost(dollars: number): string {
  if (dollars === 0) return "$0";
  if (dollars >= 1) return `$${dollars.toFixed(2)}`;
  if (dollars >= 0.01) return `$${dollars.toFixed(4)}`;
  return `$${dollars.toPrecision(2)}`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${decimal.format(ms / 1000)} s` : `${integer.format(ms)} ms`;
}

export function formatRate(tokensPerSecond: number): string {
  return `${decimal.format(tokensPerSecond)} tok/s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatWhen(time: number, now = Date.now()): string {
  const minutes = Math.round((time - now) / 60_000);
  if (Math.abs(minutes) < 1) return "just now";
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, "hour");
  return new Date(time).toLocaleDateString();
}
