/** Helpers for tool tests: tool-call deltas in the shapes servers send, and waits on Brook's MCP state. */
import { type ChatEvent, Health, type McpServerStatus, ToolList } from "@brook/shared";
import { expect } from "vitest";
import { until } from "./brook-harness.js";

export interface PlannedCall {
  id?: string;
  name: string;
  arguments: string;
}

/**
 * Tool-call deltas (one array per stream chunk) in the shapes OpenAI-compatible servers send:
 * - `openai`: index, id, type and name first, the arguments in two later pieces;
 * - `whole`: each call in one piece, with index and id;
 * - `no-index`: like openai, without any index;
 * - `no-id`: with index, without id or type;
 * - `repeated-index`: every call at index 0, each with its own id, arguments in one piece.
 */
export function toolCallDeltas(
  calls: readonly PlannedCall[],
  shape: "openai" | "whole" | "no-index" | "no-id" | "repeated-index" = "openai",
): unknown[][] {
  return calls.flatMap((call, index) => {
    const id = call.id ?? `call_${index}`;
    const half = Math.ceil(call.arguments.length / 2);
    const [first, second] = [call.arguments.slice(0, half), call.arguments.slice(half)];
    switch (shape) {
      case "openai":
        return [
          [{ index, id, type: "function", function: { name: call.name, arguments: "" } }],
          [{ index, function: { arguments: first } }],
          [{ index, function: { arguments: second } }],
        ];
      case "whole":
        return [[{ index, id, type: "function", function: { name: call.name, arguments: call.arguments } }]];
      case "no-index":
        return [[{ id, function: { name: call.name, arguments: first } }], [{ function: { arguments: second } }]];
      case "no-id":
        return [
          [{ index, function: { name: call.name, arguments: first } }],
          [{ index, function: { arguments: second } }],
        ];
      default:
        // repeated-index
        return [[{ index: 0, id, function: { name: call.name, arguments: call.arguments } }]];
    }
  });
}

export async function health(url: string): Promise<Health> {
  return Health.parse(await (await fetch(`${url}/health`)).json());
}

export async function toolNames(url: string): Promise<string[]> {
  const list = ToolList.parse(await (await fetch(`${url}/tools`)).json());
  return list.tools.map((tool) => tool.name);
}

/** Waits until every configured MCP server is connected; returns their statuses. */
export async function untilConnected(url: string, timeoutMs = 15_000): Promise<McpServerStatus[]> {
  let statuses: McpServerStatus[] = [];
  await until(async () => {
    statuses = (await health(url)).mcp_servers;
    return statuses.length > 0 && statuses.every((server) => server.status === "connected");
  }, timeoutMs);
  return statuses;
}

/** The tool events of a stream, without the content in between. */
export function toolEvents(events: readonly ChatEvent[]) {
  return events.filter((event) => event.type === "tool_call" || event.type === "tool_result");
}

/** The events' types in order, with consecutive content events folded into one. */
export function shapeOf(events: readonly ChatEvent[]): string[] {
  const types: string[] = [];
  for (const event of events) if (!(event.type === "content" && types.at(-1) === "content")) types.push(event.type);
  return types;
}

export function expectOneTerminal(events: readonly ChatEvent[]): void {
  const terminals = events.filter((event) => event.type === "complete" || event.type === "error");
  expect(terminals).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
}
