import { randomUUID } from "node:crypto";
import type { ModelToolCall } from "./chat-model.js";

/** One `delta.tool_calls[i]` of a chat-completions stream, as loosely as servers send it. */
export interface ToolCallDelta {
  index?: unknown;
  id?: unknown;
  type?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

interface Slot {
  id: string | undefined;
  name: string;
  arguments: string;
}

/**
 * Assembles streamed tool-call deltas into complete calls. OpenAI sends `index`, `id` and the
 * name in the first piece and the arguments in later ones; other servers omit `index` or `id`,
 * repeat index 0 for parallel calls, or send everything in one piece. Rules:
 * - a delta with an `id` the current slot at its index does not have starts a new call;
 * - a delta with an `index` continues the call at that index;
 * - a delta with neither continues the latest call (or starts the first);
 * - a call without an `id` gets one, so that its result can answer it.
 */
export class ToolCallAssembler {
  readonly #slots: Slot[] = [];
  /** Slot of each `index` the server used; a repeated index with a new id moves on. Made on the first call: most answers have none. */
  #byIndex: Map<number, Slot> | undefined;

  get size(): number {
    return this.#slots.length;
  }

  /** Calls that never got a name: no tool can answer them, so the answer is broken. */
  get unnamed(): number {
    let count = 0;
    for (const slot of this.#slots) if (slot.name === "") count += 1;
    return count;
  }

  add(deltas: unknown): void {
    if (!Array.isArray(deltas)) return;
    for (const delta of deltas as ToolCallDelta[]) {
      if (typeof delta !== "object" || delta === null) continue;
      this.#add(delta);
    }
  }

  /** The complete calls, in the order they started. Calls without a name are left out (see `unnamed`). */
  finish(): ModelToolCall[] {
    return this.#slots
      .filter((slot) => slot.name !== "")
      .map((slot) => ({ id: slot.id ?? generatedId(), name: slot.name, arguments: slot.arguments }));
  }

  #add(delta: ToolCallDelta): void {
    const index = typeof delta.index === "number" && Number.isInteger(delta.index) ? delta.index : undefined;
    const id = typeof delta.id === "string" && delta.id !== "" ? delta.id : undefined;
    const name = typeof delta.function?.name === "string" ? delta.function.name : "";
    const piece = typeof delta.function?.arguments === "string" ? delta.function.arguments : "";

    let slot: Slot | undefined;
    if (index === undefined && id !== undefined) {
      // A known id continues its own call; a new one starts a call.
      slot = this.#slots.find((candidate) => candidate.id === id);
    } else {
      slot = index === undefined ? this.#slots.at(-1) : this.#byIndex?.get(index);
      if (slot !== undefined && startsAnother(slot, id, name)) slot = undefined;
    }
    if (slot === undefined) {
      slot = { id, name: "", arguments: "" };
      this.#slots.push(slot);
    }
    if (index !== undefined) {
      this.#byIndex ??= new Map();
      this.#byIndex.set(index, slot);
    }
    slot.id ??= id;
    // Names arrive whole in the first piece; a server that repeats them must not double them.
    if (name !== "" && slot.name === "") slot.name = name;
    else if (name !== "" && slot.name !== name && !slot.name.endsWith(name)) slot.name += name;
    slot.arguments += piece;
  }
}

/** A repeated index (or none) that still begins another call: a new id, or a new name after finished arguments. */
function startsAnother(slot: Slot, id: string | undefined, name: string): boolean {
  if (id !== undefined) return slot.id !== undefined && slot.id !== id;
  return name !== "" && slot.name !== "" && isCompleteJson(slot.arguments);
}

function isCompleteJson(text: string): boolean {
  if (text.trim() === "") return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function generatedId(): string {
  return `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}
