import type {
  ChatEvent,
  CompleteEvent,
  OpenAIResponse,
  OpenAIResponseOutputItem,
  OpenAIResponseSettings,
  OpenAIResponseStreamEvent,
  OpenAIResponseUsage,
  Usage,
} from "@brook/shared";
import { BrookError } from "../errors/brook-error.js";
import { asBrookError, fromErrorEvent, openAIErrorBody } from "../errors/error-shapes.js";
import type { RunFold } from "./fold-run.js";
import { sse } from "./sse-frame.js";
import { eventStreamHeaders, type StreamEncoder } from "./stream-encoder.js";

export interface OpenAIResponseOptions {
  /** `resp_…`, the same in every lifecycle event. */
  id: string;
  model: string;
  /** Unix seconds. */
  createdAt: number;
  /** The caller's own function tools: only calls of these are shown. */
  callerTools: ReadonlySet<string>;
  /** What the response echoes of its request. */
  settings: OpenAIResponseSettings;
  /** The model's thinking as summary text (the request asked for a summary), else as reasoning text. */
  reasoningAsSummary: boolean;
}

type Message = Extract<OpenAIResponseOutputItem, { type: "message" }>;
type Reasoning = Extract<OpenAIResponseOutputItem, { type: "reasoning" }>;
type ItemStatus = Message["status"];
type OutputText = Message["content"][number];
/** A stream event before it is numbered. */
type Unnumbered<Event = OpenAIResponseStreamEvent> = Event extends unknown ? Omit<Event, "sequence_number"> : never;

/** The item being written: its texts, and the constant parts of its delta events around sequence number and text. */
interface OpenItem {
  item: Message | Reasoning;
  index: number;
  texts: string[];
  deltaName: string;
  deltaHead: string;
  deltaMiddle: string;
  deltaTail: string;
}

function responseUsage(usage: Usage): OpenAIResponseUsage {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
    total_tokens: usage.total_tokens,
    cost: usage.total_cost,
  };
}

/**
 * What a caller of the Responses API sees of a run, as its output items and, when `framed`, the
 * stream's semantic events. Thinking is a `reasoning` item, text a `message` item (a new item
 * each time the model turns from one to the other), calls of the caller's own tools
 * `function_call` items, which end the response. Brook's MCP tool calls stay inside: the text of
 * the model calls around them reads as one message, paragraphs apart (as on chat completions).
 */
class ResponseWriter {
  readonly output: OpenAIResponseOutputItem[] = [];
  #sequence = 0;
  #open: OpenItem | undefined;
  /** Brook's tools ran since the open message's last text: the next text is a new paragraph. */
  #toolsRan = false;
  #callerCalled = false;

  constructor(
    readonly options: OpenAIResponseOptions,
    private readonly framed: boolean,
  ) {}

  /** `response.created` and `response.in_progress`. */
  begin(): string {
    if (!this.framed) return "";
    const response = this.response("in_progress", null, null);
    return (
      this.#frame({ type: "response.created", sequence_number: this.#sequence++, response }) +
      this.#frame({ type: "response.in_progress", sequence_number: this.#sequence++, response })
    );
  }

  text(chunk: string): string {
    let opened = "";
    let piece = chunk;
    if (this.#open?.item.type !== "message") {
      opened = this.#close("completed") + this.#openMessage();
    } else if (this.#toolsRan) {
      piece = `\n\n${chunk}`;
    }
    this.#toolsRan = false;
    return opened + this.#delta(this.#open as OpenItem, piece);
  }

  reasoning(chunk: string): string {
    const opened = this.#open?.item.type === "reasoning" ? "" : this.#close("completed") + this.#openReasoning();
    return opened + this.#delta(this.#open as OpenItem, chunk);
  }

  /** A tool call: the caller's is a `function_call` item; Brook's stays inside (""). */
  toolCall(event: Extract<ChatEvent, { type: "tool_call" }>): string {
    if (!this.options.callerTools.has(event.name)) {
      this.#toolsRan = true;
      return "";
    }
    this.#callerCalled = true;
    const closed = this.#close("completed");
    const index = this.output.length;
    const id = `fc_${event.id}`;
    const item = {
      id,
      type: "function_call",
      status: "completed",
      call_id: event.id,
      name: event.name,
      arguments: event.arguments,
    } as const;
    this.output.push(item);
    if (!this.framed) return closed;
    return (
      closed +
      this.#frame({
        type: "response.output_item.added",
        sequence_number: this.#sequence++,
        output_index: index,
        item: { ...item, status: "in_progress", arguments: "" },
      }) +
      this.#frame({
        type: "response.function_call_arguments.delta",
        sequence_number: this.#sequence++,
        item_id: id,
        output_index: index,
        delta: event.arguments,
      }) +
      this.#frame({
        type: "response.function_call_arguments.done",
        sequence_number: this.#sequence++,
        item_id: id,
        output_index: index,
        arguments: event.arguments,
      }) +
      this.#frame({ type: "response.output_item.done", sequence_number: this.#sequence++, output_index: index, item })
    );
  }

  /** The run's end: `response.completed`, or `response.incomplete` when a limit cut the answer. */
  complete(event: CompleteEvent): string {
    const reason = this.#callerCalled ? undefined : incompleteReason(event.finish_reason);
    const closed = this.#close(reason === undefined ? "completed" : "incomplete");
    this.#result = this.response(reason === undefined ? "completed" : "incomplete", event.usage, null, reason);
    if (!this.framed) return closed;
    const type = reason === undefined ? "response.completed" : "response.incomplete";
    return closed + this.#frame({ type, sequence_number: this.#sequence++, response: this.#result });
  }

  /** The run failed: `response.failed` (with what was written), then `error`, which the SDKs raise. */
  fail(error: BrookError): string {
    if (this.#open !== undefined) {
      this.#open.item.status = "incomplete";
      this.#flushText(this.#open);
      this.#open = undefined;
    }
    const body = openAIErrorBody(error).error;
    this.#result = this.response("failed", error.usage ?? null, body);
    this.#error = error;
    if (!this.framed) return "";
    return (
      this.#frame({ type: "response.failed", sequence_number: this.#sequence++, response: this.#result }) +
      this.#frame({
        type: "error",
        sequence_number: this.#sequence++,
        code: body.code,
        message: body.message,
        param: body.param,
      })
    );
  }

  #result: OpenAIResponse | undefined;
  #error: BrookError | undefined;

  /** The response as the run ended; throws the run's error. */
  result(): OpenAIResponse {
    if (this.#error !== undefined) throw this.#error;
    if (this.#result === undefined) throw new BrookError("internal", "The run ended without an answer.");
    return this.#result;
  }

  response(
    status: OpenAIResponse["status"],
    usage: Usage | null,
    error: OpenAIResponse["error"],
    incomplete?: "max_output_tokens" | "content_filter",
  ): OpenAIResponse {
    const { options } = this;
    return {
      id: options.id,
      object: "response",
      created_at: options.createdAt,
      completed_at: status === "completed" ? Math.floor(Date.now() / 1000) : null,
      status,
      error,
      incomplete_details: incomplete === undefined ? null : { reason: incomplete },
      model: options.model,
      output: status === "in_progress" ? [] : this.output,
      usage: usage === null ? null : responseUsage(usage),
      ...options.settings,
      previous_response_id: null,
      store: false,
      background: false,
      truncation: "disabled",
    };
  }

  #openMessage(): string {
    const index = this.output.length;
    const id = `msg_${this.options.id.slice(5)}_${index}`;
    const item: Message = { id, type: "message", role: "assistant", status: "in_progress", content: [] };
    this.output.push(item);
    const open = this.#opened(item, index, "response.output_text.delta", ',"content_index":0', ',"logprobs":[]');
    if (!this.framed) return "";
    const part: OutputText = { type: "output_text", text: "", annotations: [], logprobs: [] };
    return (
      this.#frame({
        type: "response.output_item.added",
        sequence_number: this.#sequence++,
        output_index: index,
        item: { ...item, content: [] },
      }) +
      this.#frame({
        type: "response.content_part.added",
        sequence_number: this.#sequence++,
        item_id: open.item.id,
        output_index: index,
        content_index: 0,
        part,
      })
    );
  }

  #openReasoning(): string {
    const index = this.output.length;
    const id = `rs_${this.options.id.slice(5)}_${index}`;
    const summary = this.options.reasoningAsSummary;
    const item: Reasoning = summary
      ? { id, type: "reasoning", status: "in_progress", summary: [] }
      : { id, type: "reasoning", status: "in_progress", summary: [], content: [] };
    this.output.push(item);
    const open = summary
      ? this.#opened(item, index, "response.reasoning_summary_text.delta", ',"summary_index":0', "")
      : this.#opened(item, index, "response.reasoning_text.delta", ',"content_index":0', "");
    if (!this.framed) return "";
    const added = this.#frame({
      type: "response.output_item.added",
      sequence_number: this.#sequence++,
      output_index: index,
      item: summary ? { ...item, summary: [] } : { ...item, summary: [], content: [] },
    });
    const position = { item_id: open.item.id, output_index: index };
    return (
      added +
      (summary
        ? this.#frame({
            type: "response.reasoning_summary_part.added",
            sequence_number: this.#sequence++,
            ...position,
            summary_index: 0,
            part: { type: "summary_text", text: "" },
          })
        : this.#frame({
            type: "response.content_part.added",
            sequence_number: this.#sequence++,
            ...position,
            content_index: 0,
            part: { type: "reasoning_text", text: "" },
          }))
    );
  }

  /** Keeps `item` open, with its delta events' constant parts (text is most of a stream: two strings around its JSON). */
  #opened(item: Message | Reasoning, index: number, deltaName: string, position: string, tail: string): OpenItem {
    const open: OpenItem = {
      item,
      index,
      texts: [],
      deltaName,
      deltaHead: `{"type":"${deltaName}","sequence_number":`,
      deltaMiddle: `,"item_id":"${item.id}","output_index":${index}${position},"delta":`,
      deltaTail: `${tail}}`,
    };
    this.#open = open;
    return open;
  }

  #delta(open: OpenItem, piece: string): string {
    open.texts.push(piece);
    if (!this.framed) return "";
    const data = open.deltaHead + this.#sequence++ + open.deltaMiddle + JSON.stringify(piece) + open.deltaTail;
    return sse.event(open.deltaName, data);
  }

  /** The open item's whole text into the item. */
  #flushText(open: OpenItem): string {
    const text = open.texts.join("");
    const { item } = open;
    if (item.type === "message") item.content = [{ type: "output_text", text, annotations: [], logprobs: [] }];
    else if (this.options.reasoningAsSummary) item.summary = [{ type: "summary_text", text }];
    else item.content = [{ type: "reasoning_text", text }];
    return text;
  }

  /** Ends the open item, if any: its `…done` events. */
  #close(status: ItemStatus): string {
    const open = this.#open;
    if (open === undefined) return "";
    this.#open = undefined;
    const text = this.#flushText(open);
    const { item, index } = open;
    item.status = status;
    if (!this.framed) return "";
    const at = { item_id: item.id, output_index: index };
    const done: Unnumbered[] =
      item.type === "message"
        ? [
            { type: "response.output_text.done", ...at, content_index: 0, text, logprobs: [] },
            {
              type: "response.content_part.done",
              ...at,
              content_index: 0,
              part: { type: "output_text", text, annotations: [], logprobs: [] },
            },
          ]
        : this.options.reasoningAsSummary
          ? [
              { type: "response.reasoning_summary_text.done", ...at, summary_index: 0, text },
              {
                type: "response.reasoning_summary_part.done",
                ...at,
                summary_index: 0,
                part: { type: "summary_text", text },
              },
            ]
          : [
              { type: "response.reasoning_text.done", ...at, content_index: 0, text },
              { type: "response.content_part.done", ...at, content_index: 0, part: { type: "reasoning_text", text } },
            ];
    done.push({ type: "response.output_item.done", output_index: index, item });
    return this.#numbered(done);
  }

  /** Frames `events` in order, each with the next sequence number (second in its data, as in every event). */
  #numbered(events: readonly Unnumbered[]): string {
    let frames = "";
    for (const { type, ...fields } of events) {
      frames += this.#frame({ type, sequence_number: this.#sequence++, ...fields } as OpenAIResponseStreamEvent);
    }
    return frames;
  }

  #frame(event: OpenAIResponseStreamEvent): string {
    return sse.event(event.type, JSON.stringify(event));
  }
}

/** Why a finished run is an incomplete response; undefined when it completed. */
function incompleteReason(finishReason: string): "max_output_tokens" | "content_filter" | undefined {
  switch (finishReason) {
    case "length":
    // The model kept asking for Brook's tools: the answer was cut by a limit (as `length` on chat completions).
    case "max_tool_steps":
      return "max_output_tokens";
    case "content_filter":
      return "content_filter";
    default:
      return undefined;
  }
}

const headers = { "content-type": "text/event-stream; charset=utf-8", ...eventStreamHeaders } as const;

/**
 * The Responses API's stream: `event: <type>` and `data: {type, sequence_number, …}` for each
 * semantic event, in OpenAI's order (`response.created`, `response.in_progress`, per item
 * `output_item.added`, its part, its deltas, its `…done` events, `output_item.done`), then
 * `response.completed` (or `.incomplete`) with the usage. A failure is `response.failed` then
 * `error`, and the response ends: nothing after it reads as complete. No `[DONE]`, as OpenAI's.
 */
export function openAIResponseEncoder(options: OpenAIResponseOptions): StreamEncoder {
  const writer = new ResponseWriter(options, true);
  return {
    headers,
    start: () => writer.begin(),
    event(event: ChatEvent): string {
      switch (event.type) {
        case "content":
          return writer.text(event.chunk);
        case "reasoning":
          return writer.reasoning(event.chunk);
        case "tool_call":
          return writer.toolCall(event);
        case "complete":
          return writer.complete(event);
        case "error":
          return writer.fail(fromErrorEvent(event));
        case "start":
        case "tool_result":
        // Tools that need approval are not offered on /v1.
        case "tool_approval":
        // Nobody is asked here: MCP servers' questions are declined (the tool result says so).
        case "input_request":
        // Progress is Brook's own: OpenAI's stream has no place for it.
        case "tool_progress":
        // The content carries the JSON text already.
        case "object":
          return "";
      }
    },
    end: () => "",
    ping: sse.ping,
    failure: (thrown) => writer.fail(asBrookError(thrown).error),
  };
}

/**
 * The Responses API's answer without `stream`: a run folded into one response object (see
 * `foldRun`). A failed run throws its BrookError (with the usage it had).
 */
export class OpenAIResponseFold implements RunFold<OpenAIResponse> {
  readonly #writer: ResponseWriter;

  constructor(options: OpenAIResponseOptions) {
    this.#writer = new ResponseWriter(options, false);
  }

  event(event: ChatEvent): void {
    switch (event.type) {
      case "content":
        this.#writer.text(event.chunk);
        break;
      case "reasoning":
        this.#writer.reasoning(event.chunk);
        break;
      case "tool_call":
        this.#writer.toolCall(event);
        break;
      case "complete":
        this.#writer.complete(event);
        break;
      case "error":
        this.#writer.fail(fromErrorEvent(event));
        break;
      default:
        break;
    }
  }

  result(): OpenAIResponse {
    return this.#writer.result();
  }
}
