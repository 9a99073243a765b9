import type { ChatEvent, ChatRequest, TerminalEvent } from "@brook/shared";
import type { z } from "zod";

/** A value still filling in: every property optional, all the way down. */
export type DeepPartial<T> = T extends readonly (infer Item)[]
  ? DeepPartial<Item>[]
  : T extends object
    ? { [Key in keyof T]?: DeepPartial<T[Key]> }
    : T;

/** `streamObject`'s request: a chat request whose answer is an instance of `schema` (a Zod schema of an object). */
export type StreamObjectRequest<Schema extends z.ZodType<object>> = Omit<ChatRequest, "output"> & {
  schema: Schema;
  /** Labels the schema for the model (default `answer`). */
  name?: string;
  description?: string;
  strict?: boolean;
};

/**
 * A typed answer streaming: iterate it for the partial values (the latest one at each step), and
 * await `object` for the final value, parsed with the schema. `terminal` is the run's last event
 * (usage, timing). A run that fails rejects both with the `BrookRunError` of its `error` event.
 */
export interface ObjectStream<T> extends AsyncIterable<DeepPartial<T>> {
  readonly object: Promise<T>;
  readonly terminal: Promise<TerminalEvent>;
}

/** A run that ended with an `error` event (`invalid_output`: `event.full_content` has the text). */
export class BrookRunError extends Error {
  override name = "BrookRunError";
  constructor(readonly event: Extract<ChatEvent, { type: "error" }>) {
    super(event.error);
  }
}

/**
 * Reads `events` into an ObjectStream. The run is read whether or not anyone iterates: `object`
 * alone is enough. Iterating yields the newest partial each time (those in between are skipped).
 */
export function objectStream<Schema extends z.ZodType<object>>(
  schema: Schema,
  events: AsyncIterable<ChatEvent>,
): ObjectStream<z.infer<Schema>> {
  type T = z.infer<Schema>;
  let latest: { partial: DeepPartial<T>; seen: boolean } | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let settleTerminal!: { resolve: (event: TerminalEvent) => void; reject: (error: unknown) => void };
  const terminal = new Promise<TerminalEvent>((resolve, reject) => {
    settleTerminal = { resolve, reject };
  });
  const object = (async () => {
    try {
      for await (const event of events) {
        if (event.type === "object") {
          latest = { partial: event.partial as DeepPartial<T>, seen: false };
          notify();
        } else if (event.type === "complete") {
          settleTerminal.resolve(event);
          return schema.parse(event.object) as T;
        } else if (event.type === "error") {
          settleTerminal.resolve(event);
          throw new BrookRunError(event);
        }
      }
      throw new Error("The run ended without its terminal event.");
    } catch (error) {
      settleTerminal.reject(error);
      throw error;
    } finally {
      ended = true;
      notify();
    }
  })();
  // Awaited by whoever wants them; unobserved rejections are not this stream's failures.
  object.catch(() => {});
  terminal.catch(() => {});
  return {
    object,
    terminal,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (latest !== undefined && !latest.seen) {
          latest.seen = true;
          yield latest.partial;
          continue;
        }
        if (ended) {
          // Ends as the run does: a failed run throws its error here too.
          await object;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
