import {
  type BrookMessageMetadata,
  type ChatEvent,
  type UIFinishReason,
  type UIMessageChunk,
  uiMessageStreamHeader,
} from "@brook/shared";
import { asBrookError, fromErrorEvent, uiErrorText } from "../errors/error-shapes.js";
import { sse } from "./sse-frame.js";
import { eventStreamHeaders, type StreamEncoder } from "./stream-encoder.js";

const headers = { "content-type": "text/event-stream", ...eventStreamHeaders, ...uiMessageStreamHeader } as const;

/** The kinds of streamed parts: one is open at a time. */
type PartKind = "text" | "reasoning";

const frame = (chunk: UIMessageChunk) => sse.data(JSON.stringify(chunk));
const startStep = frame({ type: "start-step" });
/** The one data part of a typed answer: each `object` event replaces it (same id). */
const objectPart = (data: unknown) => frame({ type: "data-object", id: "object", data });
const finishStep = frame({ type: "finish-step" });

/**
 * The AI SDK's UI message stream (protocol v1), what `useChat` reads: `start` (the run's id as
 * the message id), one step per model call (`start-step` … `finish-step`), text as
 * `text-start`/`-delta`/`-end`, Brook's MCP tool calls as provider-executed dynamic tools, then
 * `finish` with usage and timing in `messageMetadata`, and `[DONE]`. A typed answer's object is
 * a `data-object` part, replaced as it fills in and last by the checked value. A failure is one `error`
 * chunk; a cancelled run ends with `abort`.
 *
 * Steps are derived from the events: a model call after tool results starts a new one. Every
 * event from seq 0 gives the same chunks, so a resumed stream replays the message as it was.
 *
 * A tool call that waits for a person is a `tool-approval-request`; once every unfinished call of
 * the step waits so, the response ends there (`finish-step`, `finish`, as the AI SDK ends a step
 * that needs approval) while the run waits. The client's next POST answers them, and its response
 * (`answered`: those approvals) says nothing of what came before that pause.
 *
 * An MCP server's question during a call (`input_request`) is a `data-input-request` part: the
 * response stays open while the run waits, and the answer goes to the REST route.
 */
export function uiMessageStreamEncoder(answered?: ReadonlySet<string>): StreamEncoder {
  return new UIMessageStreamEncoder(answered);
}

class UIMessageStreamEncoder implements StreamEncoder {
  readonly headers = headers;
  readonly ping = sse.ping;
  /** Tool calls of the step without a result yet. */
  readonly #unfinished = new Set<string>();
  /** Those of them that wait for a person. */
  readonly #waiting = new Set<string>();
  /** Approvals still to pass, silently, before this response speaks (a continuation). */
  #silentUntil: Set<string> | undefined;

  constructor(answered?: ReadonlySet<string>) {
    this.#silentUntil = answered === undefined || answered.size === 0 ? undefined : new Set(answered);
  }

  /** Every unfinished call of the step waits for a person: the response ends here. */
  get paused(): boolean {
    return this.#waiting.size > 0 && this.#waiting.size === this.#unfinished.size;
  }
  /** The part being streamed, and the start of each of its deltas. */
  #open: { kind: PartKind; id: string; head: string; tail: string } | undefined;
  #parts = 0;
  /** Tool results came back: what follows is the model's next call, a new step. */
  #toolsDone = false;
  #metadata: BrookMessageMetadata = {};

  start(): string {
    return "";
  }

  event(event: ChatEvent): string {
    const silent = this.#silentUntil;
    if (silent === undefined) return this.#encode(event);
    this.#encode(event);
    if (event.type === "tool_approval") silent.delete(event.approval_id);
    if (silent.size > 0 || !this.paused) return "";
    // Where the last response ended: from here on the client has not seen it.
    this.#silentUntil = undefined;
    return frame({ type: "start", messageId: this.#metadata.run_id ?? "", messageMetadata: this.#metadata });
  }

  #encode(event: ChatEvent): string {
    switch (event.type) {
      case "content":
        return this.#delta("text", event.chunk);
      case "reasoning":
        return this.#delta("reasoning", event.chunk);
      case "object":
        return objectPart(event.partial);
      case "start":
        this.#metadata = { run_id: event.run_id, model: event.model };
        return frame({ type: "start", messageId: event.run_id, messageMetadata: this.#metadata }) + startStep;
      case "tool_call":
        this.#unfinished.add(event.id);
        return (
          this.#boundary() +
          frame({
            type: "tool-input-available",
            toolCallId: event.id,
            toolName: event.name,
            input: toolInput(event.arguments),
            providerExecuted: true,
            dynamic: true,
          })
        );
      case "tool_approval":
        this.#waiting.add(event.id);
        return frame({ type: "tool-approval-request", approvalId: event.approval_id, toolCallId: event.id });
      case "input_request":
        // Kept in the message (not transient): a reload shows the question; the response stays open.
        return frame({
          type: "data-input-request",
          id: event.input_id,
          data: {
            run_id: this.#metadata.run_id ?? "",
            tool_call_id: event.id,
            name: event.name,
            server: event.server,
            message: event.message,
            requested_schema: event.requested_schema,
          },
        });
      case "tool_result":
        this.#toolsDone = true;
        this.#unfinished.delete(event.id);
        this.#waiting.delete(event.id);
        if (event.approval === "denied" || event.approval === "timed_out") {
          return frame({ type: "tool-output-denied", toolCallId: event.id });
        }
        return frame(
          event.is_error
            ? {
                type: "tool-output-error",
                toolCallId: event.id,
                errorText: event.result,
                providerExecuted: true,
                dynamic: true,
              }
            : {
                type: "tool-output-available",
                toolCallId: event.id,
                output: event.result,
                providerExecuted: true,
                dynamic: true,
              },
        );
      case "tool_progress":
        // Transient: shown while the tool runs, never kept in the message.
        return frame({
          type: "data-tool-progress",
          id: event.id,
          data: { name: event.name, progress: event.progress, total: event.total, message: event.message },
          transient: true,
        });
      case "complete":
        return (
          this.#close() +
          (event.object === undefined ? "" : objectPart(event.object)) +
          finishStep +
          frame({
            type: "finish",
            finishReason: uiFinishReason(event.finish_reason),
            messageMetadata: { usage: event.usage, timing: event.timing, finish_reason: event.finish_reason },
          })
        );
      case "error": {
        const usage = frame({ type: "message-metadata", messageMetadata: { usage: event.usage } });
        const error = fromErrorEvent(event);
        const last: UIMessageChunk =
          error.code === "cancelled" ? { type: "abort" } : { type: "error", errorText: uiErrorText(error) };
        return this.#close() + usage + frame(last);
      }
    }
  }

  end(): string {
    if (!this.paused) return sse.done;
    // The run waits for a person: this response ends its step as the AI SDK does.
    return (
      this.#close() +
      finishStep +
      frame({ type: "finish", finishReason: "tool-calls", messageMetadata: { finish_reason: "tool_approval" } }) +
      sse.done
    );
  }

  failure(thrown: unknown): string {
    return this.#close() + frame({ type: "error", errorText: uiErrorText(asBrookError(thrown).error) }) + sse.done;
  }

  /** One more piece of a text (or reasoning) part, opening the part (and a new step) when needed. */
  #delta(kind: PartKind, text: string): string {
    let out = "";
    if (this.#open?.kind !== kind || this.#toolsDone) {
      out = this.#boundary();
      const id = `${kind}-${this.#parts++}`;
      // Deltas are most of a stream: each is one frame written around the text's JSON.
      const [head, tail] = frame({ type: `${kind}-delta`, id, delta: "\u0000" }).split('"\\u0000"') as [string, string];
      this.#open = { kind, id, head, tail };
      out += frame({ type: `${kind}-start`, id });
    }
    return `${out}${this.#open.head}${JSON.stringify(text)}${this.#open.tail}`;
  }

  /** Before a new part: the open one ends, and after tool results a new step begins. */
  #boundary(): string {
    const closed = this.#close();
    if (!this.#toolsDone) return closed;
    this.#toolsDone = false;
    return closed + finishStep + startStep;
  }

  #close(): string {
    const open = this.#open;
    if (open === undefined) return "";
    this.#open = undefined;
    return frame({ type: `${open.kind}-end`, id: open.id });
  }
}

/** The tool's input as the client shows it: the JSON the model wrote, or its text when it is not JSON. */
function toolInput(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Brook's finish reasons (OpenAI's words) in the AI SDK's; a run stopped at MAX_TOOL_STEPS was still calling tools. */
function uiFinishReason(reason: string): UIFinishReason {
  switch (reason) {
    case "stop":
    case "length":
      return reason;
    case "content_filter":
      return "content-filter";
    case "tool_calls":
    case "max_tool_steps":
      return "tool-calls";
    default:
      return "other";
  }
}
