/** What instances tell each other about the runs one of them produces. */
export interface InstanceMessage {
  /**
   * `cancel`: stop the run; `presence`: a reader elsewhere is reading it; `absent`: no more;
   * `answer`: an answer to an input the run waits for (`input`, `value`, `reply`); `answered`: how it was taken (`reply`, `outcome`).
   */
  type: "cancel" | "presence" | "absent" | "answer" | "answered";
  runId: string;
  /** The sending instance. */
  from: string;
  /** `answer`: the input answered. */
  input?: string | undefined;
  /** `answer`: the answer (JSON). */
  value?: unknown;
  /** `answer`, `answered`: matches a reply to its request. */
  reply?: string | undefined;
  /** `answered`: the InputOutcome (`invalid` for an InvalidAnswer). */
  outcome?: string | undefined;
  /** `answered` with outcome `invalid`: what is wrong with the answer. */
  detail?: string | undefined;
}

/** What a message carries besides its type, run and sender. */
export type InstanceMessageFields = Pick<InstanceMessage, "input" | "value" | "reply" | "outcome" | "detail">;

/**
 * How instances that share runs talk to each other: each listens for messages about the runs it
 * produces (cancels, readers elsewhere) and sends others theirs. Redis pub/sub is one
 * implementation (`redis/instance-inbox.ts`); a single instance needs none.
 */
export interface InstanceMessages {
  /** This instance, as others address it. */
  readonly instanceId: string;
  /** Handles every message of `type` sent to this instance (one handler per type). */
  on(type: InstanceMessage["type"], handler: (message: InstanceMessage) => void): void;
  /** Sends a message to `instanceId`; resolves with how many instances received it (0: it is gone). */
  send(
    instanceId: string,
    type: InstanceMessage["type"],
    runId: string,
    fields?: InstanceMessageFields,
  ): Promise<number>;
}
