import { readdirSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// TypeScript 7 has no compiler API: its predecessor parses the imports.
import ts from "@typescript/typescript6";
import { describe, expect, it } from "vitest";

/**
 * The server's rooms import one way: each folder (and each file at the top of src/) only from
 * those before it in the order docs/architecture.md lists. Type-only imports count too: no
 * linter sees a cycle made of them, yet it ties two rooms together all the same.
 */
const repo = fileURLToPath(new URL("..", import.meta.url));
const src = resolve(repo, "packages/server/src");

/** The order from docs/architecture.md: the line after "Folder order". */
function documentedOrder(): string[] {
  const doc = readFileSync(resolve(repo, "docs/architecture.md"), "utf8");
  const line = /^Folder order[^\n]*\n+```\n([^\n]+)\n```/m.exec(doc)?.[1];
  if (line === undefined) throw new Error("docs/architecture.md has no Folder order block");
  return line.split("→").map((unit) => unit.trim().replace(/\/$/, ""));
}

interface Edge {
  from: string;
  to: string;
  /** One import that makes it, `file → imported file`. */
  via: string;
}

/** A file's room: its top folder under src/, or the file itself when it sits at the top. */
function roomOf(file: string): string {
  return relative(src, file).split("/", 1)[0] ?? "";
}

/** Every import between rooms (static, dynamic, `import type`, `export … from`). */
function roomImports(): Edge[] {
  const edges: Edge[] = [];
  const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
  for (const file of files) {
    const path = resolve(src, file);
    const { importedFiles } = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = resolve(dirname(path), fileName.replace(/\.js$/, ".ts"));
      const from = roomOf(path);
      const to = roomOf(target);
      if (from !== to) edges.push({ from, to, via: `${relative(src, path)} → ${relative(src, target)}` });
    }
  }
  return edges;
}

/** The cycles among rooms (strongly connected components of more than one room), each with the imports that close it. */
function roomCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)?.add(to);
  }
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (room: string) => {
    index.set(room, counter);
    low.set(room, counter);
    counter += 1;
    stack.push(room);
    onStack.add(room);
    for (const target of next.get(room) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(room, Math.min(low.get(room) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(room, Math.min(low.get(room) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(room) === index.get(room)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== room);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const room of next.keys()) if (!index.has(room)) visit(room);
  return components.map((component) =>
    edges.filter(({ from, to }) => component.includes(from) && component.includes(to)).map(({ via }) => via),
  );
}

/** Imports of a room placed after the importer in `order` (or of a room the order does not list). */
function againstOrder(edges: readonly Edge[], order: readonly string[]): string[] {
  return edges
    .filter(({ from, to }) => {
      const importer = order.indexOf(from);
      const imported = order.indexOf(to);
      return importer === -1 || imported === -1 || imported > importer;
    })
    .map(({ via }) => via);
}

describe("folder rules of packages/server/src", () => {
  const edges = roomImports();

  it("has no cycle between folders, type-only imports included", () => {
    expect(roomCycles(edges)).toEqual([]);
  });

  it("imports only along the order docs/architecture.md gives, which lists every room", () => {
    const order = documentedOrder();
    const rooms = new Set(edges.flatMap(({ from, to }) => [from, to]));
    expect([...rooms].filter((room) => !order.includes(room))).toEqual([]);
    expect(againstOrder(edges, order)).toEqual([]);
  });

  it("encoders and folds see runs through storage/ only (and shape errors through errors/)", () => {
    const outside = edges.filter(({ from, to }) => from === "encodings" && to !== "storage" && to !== "errors");
    expect(outside.map(({ via }) => via)).toEqual([]);
  });

  it("the checks catch what they are for: a cycle, and an import against the order", () => {
    const edge = (from: string, to: string): Edge => ({ from, to, via: `${from}/a.ts → ${to}/b.ts` });
    const cyclic = [edge("agent", "control"), edge("control", "agent"), edge("agent", "errors")];
    expect(roomCycles(cyclic)).toEqual([["agent/a.ts → control/b.ts", "control/a.ts → agent/b.ts"]]);
    expect(againstOrder([edge("storage", "redis")], ["storage", "redis"])).toEqual(["storage/a.ts → redis/b.ts"]);
    expect(againstOrder([edge("redis", "storage")], ["storage", "redis"])).toEqual([]);
  });
});
