import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { InstanceMessages } from "../control/instance-messages.js";
import type { InputOutcome } from "../control/pending-inputs.js";
import type { RunChannel } from "../control/run-channel.js";
import type { CancelOutcome } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import { type RedisClients, runKeys } from "./redis-clients.js";

type AnswerOutcome = InputOutcome | "finished";

const answerOutcomes = new Set<string>([
  "answered",
  "already_answered",
  "not_found",
  "finished",
] satisfies AnswerOutcome[]);

/** An InvalidAnswer travels as outcome `invalid` with its field and problem, as JSON, in `detail`. */
const invalidOutcome = "invalid";
const InvalidDetail = z.tuple([z.string(), z.string()]);

/** How long an answer waits for the producer to say how it was taken. */
const answerReplyMs = 5_000;

/**
 * Cancels and answers travel to the instance that produces the run, through its channel on Redis
 * pub/sub; an answer's outcome comes back the same way, to the instance that sent it.
 */
export class RedisRunChannel implements RunChannel {
  readonly #replies = new Map<string, (outcome: AnswerOutcome) => void>();

  constructor(
    private readonly clients: RedisClients,
    private readonly inbox: InstanceMessages,
  ) {
    inbox.on("answered", ({ reply, outcome, detail }) => {
      if (reply === undefined || outcome === undefined) return;
      if (outcome === invalidOutcome) {
        this.#replies.get(reply)?.(invalidDetail(detail));
      } else if (answerOutcomes.has(outcome)) this.#replies.get(reply)?.(outcome as AnswerOutcome);
    });
  }

  /** The run's producer, or whether it ended or is unknown. */
  async #producer(runId: string): Promise<string | "finished" | "not_found"> {
    const keys = runKeys(runId);
    let producer: string | null;
    let ended: number;
    try {
      [producer, ended] = await Promise.all([
        this.clients.commands.hget(keys.meta, "producer"),
        this.clients.commands.exists(keys.end),
      ]);
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    if (ended === 1) return "finished";
    return producer ?? "not_found";
  }

  async requestAnswer(runId: string, inputId: string, value: unknown): Promise<AnswerOutcome> {
    const producer = await this.#producer(runId);
    if (producer === "finished" || producer === "not_found") return producer;
    const reply = randomUUID();
    const outcome = new Promise<AnswerOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(reply);
        reject(new BrookError("unavailable", "The instance running this answer did not confirm the answer in time."));
      }, answerReplyMs);
      timer.unref();
      this.#replies.set(reply, (taken) => {
        clearTimeout(timer);
        this.#replies.delete(reply);
        resolve(taken);
      });
    });
    let receivers: number;
    try {
      receivers = await this.inbox.send(producer, "answer", runId, { input: inputId, value, reply });
    } catch (error) {
      this.#replies.get(reply)?.("not_found");
      throw new BrookError("unavailable", undefined, { cause: error });
    }
    // Nobody listens: the producer is gone, its readers get `interrupted` once its lease runs out.
    if (receivers === 0) this.#replies.get(reply)?.("not_found");
    const taken = await outcome;
    return receivers === 0 ? "finished" : taken;
  }

  onAnswerRequest(listener: (runId: string, inputId: string, value: unknown) => AnswerOutcome): void {
    this.inbox.on("answer", ({ runId, from, input, value, reply }) => {
      if (input === undefined || reply === undefined) return;
      const outcome = listener(runId, input, value);
      const fields =
        typeof outcome === "string"
          ? { reply, outcome }
          : { reply, outcome: invalidOutcome, detail: JSON.stringify([outcome.field, outcome.problem]) };
      this.inbox.send(from, "answered", runId, fields).catch(() => {});
    });
  }

  async requestCancel(runId: string): Promise<CancelOutcome> {
    const producer = await this.#producer(runId);
    if (producer === "finished" || producer === "not_found") return producer;
    // No instance listening means the producer is gone: its lease runs out and readers get `interrupted`.
    await this.inbox.send(producer, "cancel", runId).catch((error: unknown) => {
      throw new BrookError("unavailable", undefined, { cause: error });
    });
    return "cancelled";
  }

  onCancelRequest(listener: (runId: string) => void): void {
    this.inbox.on("cancel", ({ runId }) => listener(runId));
  }
}

/** The field and problem of an `invalid` outcome (any client of the Redis may publish: parsed). */
function invalidDetail(detail: string | undefined): { field: string; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(detail ?? "");
  } catch {
    json = undefined;
  }
  const parsed = InvalidDetail.safeParse(json);
  return parsed.success
    ? { field: parsed.data[0], problem: parsed.data[1] }
    : { field: "body", problem: "does not fit" };
}
