/**
 * Compares two V8 heap snapshots (`.heapsnapshot`, as `v8.writeHeapSnapshot()` or DevTools write
 * them) by constructor: how many more objects of each kind the second holds, and their self size.
 *
 *   node --import tsx test/bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [--per=500] [--top=40]
 *
 * `--per=N` divides the differences by N (e.g. the number of streams open in the second snapshot
 * and not in the first), so the table reads "per stream". Objects are grouped as DevTools groups
 * them, a little finer: plain objects by constructor name, closures by function name, strings,
 * arrays, code and V8's internal objects (`system / Context`, …) by kind and name.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export interface HeapGroup {
  count: number;
  selfSize: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Counts and self sizes by group; the key is what the table prints. */
export function groupSnapshot(path: string): Map<string, HeapGroup> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snapshot.meta.node_types[0];
  const groups = new Map<string, HeapGroup>();
  for (let at = 0; at < nodes.length; at += stride) {
    const type = types[nodes[at + typeAt] as number] ?? "?";
    const key = groupKey(type, strings[nodes[at + nameAt] as number] ?? "");
    const group = groups.get(key);
    const size = nodes[at + sizeAt] as number;
    if (group === undefined) groups.set(key, { count: 1, selfSize: size });
    else {
      group.count += 1;
      group.selfSize += size;
    }
  }
  return groups;
}

function groupKey(type: string, name: string): string {
  switch (type) {
    case "object":
    case "native":
      return name;
    case "closure":
      return `(closure) ${name || "anonymous"}`;
    case "string":
    case "concatenated string":
    case "sliced string":
      return `(${type})`;
    case "number":
    case "heap number":
      return "(number)";
    case "code":
      return "(compiled code)";
    default:
      // hidden, array, object shape, synthetic…: the name says which (e.g. "system / Context").
      return `(${type}) ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
  }
}

export interface HeapDifference extends HeapGroup {
  key: string;
}

/** Groups whose self size or count changed, largest growth first. */
export function diffGroups(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>): HeapDifference[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const rows: HeapDifference[] = [];
  for (const key of keys) {
    const was = before.get(key) ?? { count: 0, selfSize: 0 };
    const is = after.get(key) ?? { count: 0, selfSize: 0 };
    if (was.count === is.count && was.selfSize === is.selfSize) continue;
    rows.push({ key, count: is.count - was.count, selfSize: is.selfSize - was.selfSize });
  }
  return rows.sort((a, b) => b.selfSize - a.selfSize);
}

/** A plain-text table of the `top` largest rows, divided by `per`, with the total of every row. */
export function formatDifference(rows: HeapDifference[], per: number, top: number): string {
  const total = rows.reduce((sum, row) => sum + row.selfSize, 0);
  const count = rows.reduce((sum, row) => sum + row.count, 0);
  const lines = [`${"self bytes".padStart(12)} ${"objects".padStart(9)}  constructor (per ${per})`];
  for (const row of rows.slice(0, top)) {
    lines.push(
      `${(row.selfSize / per).toFixed(0).padStart(12)} ${(row.count / per).toFixed(2).padStart(9)}  ${row.key}`,
    );
  }
  lines.push(`${(total / per).toFixed(0).padStart(12)} ${(count / per).toFixed(2).padStart(9)}  total`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { per: { type: "string", default: "1" }, top: { type: "string", default: "40" } },
  });
  const [before, after] = positionals;
  if (before === undefined || after === undefined) {
    console.error("usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [--per=N] [--top=N]");
    process.exit(2);
  }
  const rows = diffGroups(groupSnapshot(before), groupSnapshot(after));
  console.log(formatDifference(rows, Number(values.per), Number(values.top)));
}
