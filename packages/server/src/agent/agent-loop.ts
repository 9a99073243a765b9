import { randomUUID } from "node:crypto";
import type {
  ApprovalDecision,
  ChatEvent,
  ErrorCode,
  ObjectEvent,
  TerminalEvent,
  Timing,
  ToolApprovalEvent,
  ToolCallEvent,
  ToolProgressEvent,
  ToolResultEvent,
  Usage,
} from "@brook/shared";
import { ApprovalAnswer, START_MESSAGE } from "@brook/shared";
import type { AttachmentLimits } from "../control/attachment-limits.js";
import type { InputAnswer, InvalidAnswer } from "../control/pending-inputs.js";
import type { RunContext, RunOutcome } from "../control/run-control.js";
import type { RunRequest } from "../control/run-request.js";
import { abortReason, BrookError } from "../errors/brook-error.js";
import { errorEvent } from "../errors/error-shapes.js";
import {
  type ChatModel,
  forEachParts,
  type ModelCall,
  type ModelMessage,
  type ModelPart,
  type ModelTool,
  type ModelToolCall,
  messageText,
} from "../models/chat-model.js";
import { historyParts, messageParts } from "../models/message-parts.js";
import { finalObject, partialObject, type StructuredOutput } from "../models/structured-output.js";
import { TokenTally } from "../models/token-counter.js";
import type { PriceTable } from "../pricing/price-table.js";
import type { AskInput } from "../tools/input-questions.js";
import type { ToolOutcome, ToolProgress } from "../tools/tool-registry.js";
import { type InputDecision, inputAsker } from "./input-requests.js";
import { toolImagesMessage } from "./tool-images.js";

/** The tools a run can use: what a request is offered, and how a call is made. */
export interface AgentTools {
  offered(selection: false | readonly string[] | null | undefined): ModelTool[];
  /**
   * Tool failures come back as error outcomes; only the run's abort throws. A server's question
   * during the call goes to `ask`; without it, it is declined.
   */
  call(
    call: ModelToolCall,
    signal: AbortSignal,
    onProgress?: (progress: ToolProgress) => void,
    ask?: AskInput,
  ): Promise<ToolOutcome>;
  /** The server of a tool whose calls a person approves first (TOOL_APPROVAL); undefined for any other. */
  approvalServer(name: string): string | undefined;
}

export interface AgentDependencies {
  model: ChatModel;
  prices: PriceTable;
  defaultSystemPrompt: string;
  /** MCP tools; none when no server is configured. */
  tools?: AgentTools | undefined;
  /** Rounds of tool calls a run may make. */
  maxToolSteps: number;
  /** Tools' images go to the model as image parts within these limits; undefined: their text only. */
  toolImageLimits?: AttachmentLimits | undefined;
  /** Tool calls one model turn may ask Brook to run (MAX_TOOL_CALLS_PER_STEP); a turn with more ends the run. Default 32. */
  maxToolCallsPerStep?: number | undefined;
  /** Tool calls of one turn run at the same time (TOOL_CONCURRENCY); default 4. */
  toolConcurrency?: number | undefined;
  /** Told about failures that are Brook's own bugs (the caller sees code `internal`). */
  onInternalError: (error: unknown, runId: string) => void;
  /** Told when each model call ends (for the metrics): `code` null when it finished its answer. */
  onModelCall?: ((model: string, code: ErrorCode | null) => void) | undefined;
  /** How long a tool call waits for a person's approval before it is denied (APPROVAL_TIMEOUT_MS); default 300000. */
  approvalTimeoutMs?: number | undefined;
  /** Told when an approval is asked for, and when it is decided (for the metrics). */
  onApproval?: ((event: "requested" | ApprovalDecision) => void) | undefined;
  /** How long an MCP server's question waits for a person before it is declined (INPUT_TIMEOUT_MS); default 300000. */
  inputTimeoutMs?: number | undefined;
  /** Told when a server's question is asked, and how it ended. */
  onInput?: ((event: "requested" | InputDecision) => void) | undefined;
}

const defaultApprovalTimeoutMs = 300_000;
const defaultInputTimeoutMs = 300_000;

const defaultMaxToolCallsPerStep = 32;
const defaultToolConcurrency = 4;

/** The finish reason of a run stopped because the model kept asking for tools. */
export const maxToolStepsReason = "max_tool_steps";

/** The finish reason of a run that hands the model's calls of the caller's own tools back to it. */
export const callerToolsReason = "tool_calls";

/** One model call of a run, for its usage. */
interface Step {
  /** The model server took the request: from then on its prompt counts, even if the run fails. */
  accepted: boolean;
  messages: ModelMessage[];
  /** The tools offered with them: the model reads their definitions as part of the prompt. */
  tools: readonly ModelTool[];
  /** The model's text, piece by piece (joined only when needed: one slot per piece, not a new string). */
  texts: string[];
  /** Its reasoning, likewise: shown and counted, never sent back to the model. */
  reasoning: string[];
  /** The tool calls it asked for, as text: with `texts`, what a local count measures when the server reports none. */
  toolText: string;
  reported: Extract<ModelPart, { type: "usage" }> | undefined;
  /** Brook stopped waiting for the model (timeout): what it may have billed is estimated. */
  abandoned?: boolean;
  /** The model that answered, when a router says (a fallback may): the step is priced at it. */
  model?: string;
}

interface Progress {
  /** The first answer token (TTFT). */
  firstTokenAt: number | undefined;
  /** The first output of any kind, reasoning included (the rate of tokens/s). */
  firstOutputAt: number | undefined;
  /** Since when the model has been thinking without answering; undefined when it is not. */
  reasoningSince: number | undefined;
  /** Time spent thinking in the stretches that have ended. */
  reasoningMs: number;
  reasoned: boolean;
  steps: Step[];
  /** A typed answer's text and its partial object as last sent; undefined for a text answer. */
  typed: TypedAnswer | undefined;
}

/** The JSON text of the current model call (reset on each), and the partial object last sent, serialized. */
interface TypedAnswer {
  text: string;
  sent: string;
}

/** What one model call ended with. */
interface StepOutcome {
  calls: ModelToolCall[];
  finishReason: string | undefined;
}

/**
 * Generates one run: the start event, then model calls. The model's text streams as content
 * events; when it asks for tools, they run TOOL_CONCURRENCY at a time (tool_call, then tool_result events),
 * their results go back to the model, and it is asked again, up to `maxToolSteps` rounds.
 * When it calls tools of the caller's own (`callerTools`), the run ends with those calls instead.
 * Exactly one terminal event (complete or error) ends the run, with the usage of all its
 * model calls, also when the run failed midway.
 */
export async function executeRun(run: RunContext, request: RunRequest, deps: AgentDependencies): Promise<RunOutcome> {
  const { signal } = run;
  const messages = buildMessages(request, deps.defaultSystemPrompt);
  const progress: Progress = {
    firstTokenAt: undefined,
    firstOutputAt: undefined,
    reasoningSince: undefined,
    reasoningMs: 0,
    reasoned: false,
    steps: [],
    typed: request.structuredOutput === undefined ? undefined : { text: "", sent: "" },
  };
  run.log.append([{ type: "start", message: START_MESSAGE, run_id: run.id, model: run.model }]);
  try {
    const callerTools = request.callerTools ?? [];
    const callerNames = new Set(callerTools.map((tool) => tool.name));
    const agentTools = deps.tools;
    // Where nobody can answer an approval (`/v1`, whole answers), the tools that need one are not offered.
    const mcpTools = (agentTools?.offered(request.tools) ?? []).filter(
      (tool) =>
        !callerNames.has(tool.name) &&
        (request.approvals === true || agentTools?.approvalServer(tool.name) === undefined),
    );
    const tools = [...mcpTools, ...callerTools];
    const stop = typeof request.stop === "string" ? [request.stop] : (request.stop ?? undefined);
    let finishReason: string;
    for (let round = 0; ; round += 1) {
      const step: Step = {
        accepted: false,
        messages: [...messages],
        tools,
        texts: [],
        reasoning: [],
        toolText: "",
        reported: undefined,
      };
      progress.steps.push(step);
      const call: ModelCall = {
        model: run.model,
        messages: step.messages,
        temperature: request.temperature ?? undefined,
        maxTokens: request.max_tokens ?? undefined,
        topP: request.top_p ?? undefined,
        presencePenalty: request.presence_penalty ?? undefined,
        frequencyPenalty: request.frequency_penalty ?? undefined,
        seed: request.seed ?? undefined,
        stop,
        tools: tools.length > 0 ? tools : undefined,
        toolChoice: round === 0 ? request.toolChoice : undefined,
        parallelToolCalls: request.parallelToolCalls,
        reasoningEffort: request.reasoning_effort ?? undefined,
        verbosity: request.verbosity,
        responseFormat: request.structuredOutput?.format ?? request.responseFormat,
        signal,
      };
      if (progress.typed !== undefined) progress.typed = { text: "", sent: "" };
      // Awaited here, not in a helper's frame of its own: every open stream holds each waiting frame.
      let outcome: StepOutcome & { finishReason: string };
      try {
        outcome = finishedStep(run, deps, step, await streamModelStep(run, deps.model, call, progress, step));
      } catch (thrown) {
        throw failedStep(run, deps, step, thrown);
      }
      if (outcome.calls.length === 0) {
        finishReason = outcome.finishReason;
        break;
      }
      // The caller runs its own tools: the turn is its. Brook's calls of the same turn are not
      // made (the model may ask again once it has the caller's results).
      const handedBack = outcome.calls.filter((toolCall) => callerNames.has(toolCall.name));
      if (handedBack.length > 0) {
        run.log.append(handedBack.map(toolCallEvent));
        finishReason = callerToolsReason;
        break;
      }
      if (round >= deps.maxToolSteps) {
        finishReason = maxToolStepsReason;
        break;
      }
      const maxCalls = deps.maxToolCallsPerStep ?? defaultMaxToolCallsPerStep;
      if (outcome.calls.length > maxCalls) {
        throw new BrookError(
          "upstream_invalid_answer",
          `The model asked for ${outcome.calls.length} tool calls in one turn; at most ${maxCalls} are run (MAX_TOOL_CALLS_PER_STEP).`,
        );
      }
      // A store shared between instances keeps what the run used so far, should this instance die.
      if (run.log.noteUsage !== undefined) run.log.noteUsage(await measureUsage(run, progress, deps.prices));
      const offered = new Set(mcpTools.map((tool) => tool.name));
      const concurrency = deps.toolConcurrency ?? defaultToolConcurrency;
      const results = await runToolCalls(run, outcome.calls, offered, deps, concurrency, request.approvals === true);
      // The answer text only: reasoning never goes back to the model (DeepSeek refuses it).
      messages.push({ role: "assistant", content: step.texts.join(""), toolCalls: outcome.calls });
      outcome.calls.forEach((toolCall, index) => {
        messages.push({ role: "tool", toolCallId: toolCall.id, content: results[index]?.text ?? "" });
      });
      const images =
        deps.toolImageLimits === undefined
          ? undefined
          : toolImagesMessage(outcome.calls, results, deps.toolImageLimits, messages);
      if (images !== undefined) messages.push(images);
    }
    const object = typedAnswer(request.structuredOutput, progress, finishReason);
    const usage = await measureUsage(run, progress, deps.prices);
    const timing = measureTiming(run, progress, usage);
    const reasoning = progress.steps.map((step) => step.reasoning.join("")).join("");
    const answered = answeredBy(run, progress);
    return finish(
      run,
      {
        type: "complete",
        full_content: progress.steps.map((step) => step.texts.join("")).join(""),
        ...(progress.reasoned ? { full_reasoning: reasoning } : {}),
        usage,
        finish_reason: finishReason,
        timing,
        ...(object === undefined ? {} : { object }),
        ...(answered === run.model ? {} : { model: answered }),
      },
      timing,
      answered,
    );
  } catch (thrown) {
    const error = runError(thrown, run, deps);
    // A call given up on (timeout) may still be billed, like a cancelled one.
    if (error.code === "timeout") {
      const waitedOn = progress.steps.at(-1);
      if (waitedOn !== undefined) waitedOn.abandoned = true;
    }
    const usage = await measureUsage(run, progress, deps.prices);
    return finish(
      run,
      errorEvent(error, usage, error.fullContent),
      measureTiming(run, progress, usage),
      answeredBy(run, progress),
    );
  }
}

/** One model call that ended: its outcome if it finished its answer (else it throws), told to `onModelCall`. */
function finishedStep(
  run: RunContext,
  deps: AgentDependencies,
  step: Step,
  outcome: StepOutcome,
): StepOutcome & { finishReason: string } {
  if (run.signal.aborted) throw abortReason(run.signal);
  if (outcome.finishReason === undefined) {
    throw new BrookError("upstream_incomplete", "The model server ended the stream without finishing the answer.");
  }
  deps.onModelCall?.(step.model ?? run.model, null);
  return { calls: outcome.calls, finishReason: outcome.finishReason };
}

/** One model call that failed, told to `onModelCall`: gives back what to throw. */
function failedStep(run: RunContext, deps: AgentDependencies, step: Step, thrown: unknown): unknown {
  const { signal } = run;
  // The code the run will report (asBrookError's, without telling onInternalError twice).
  const code = thrown instanceof BrookError ? thrown.code : signal.aborted ? abortReason(signal).code : "internal";
  deps.onModelCall?.(step.model ?? run.model, code);
  return thrown;
}

/**
 * One model call: its reasoning and text stream out as reasoning and content events, in the
 * order they came; tool calls and usage are collected.
 */
async function streamModelStep(
  run: RunContext,
  model: ChatModel,
  call: ModelCall,
  progress: Progress,
  step: Step,
): Promise<StepOutcome> {
  const outcome: StepOutcome = { calls: [], finishReason: undefined };
  // Pushed when the model's stream can push: from the socket's read to the log's append (and
  // so to the clients' writes) in one call, no promise per batch.
  await forEachParts(model.stream(call), (parts) => {
    const events: ChatEvent[] = [];
    for (const part of parts) {
      if (part.type === "accepted") {
        step.accepted = true;
      } else if (part.type === "text") {
        progress.firstTokenAt ??= performance.now();
        progress.firstOutputAt ??= progress.firstTokenAt;
        if (progress.reasoningSince !== undefined) endReasoning(progress);
        step.texts.push(part.text);
        events.push({ type: "content", chunk: part.text });
      } else if (part.type === "reasoning") {
        if (progress.reasoningSince === undefined) {
          progress.reasoningSince = performance.now();
          progress.firstOutputAt ??= progress.reasoningSince;
          progress.reasoned = true;
        }
        step.reasoning.push(part.text);
        events.push({ type: "reasoning", chunk: part.text });
      } else if (part.type === "tool_call") {
        if (progress.reasoningSince !== undefined) endReasoning(progress);
        outcome.calls.push(part.call);
        step.toolText += part.call.name + part.call.arguments;
      } else if (part.type === "finish") {
        outcome.finishReason = part.reason;
      } else if (part.type === "usage") {
        step.reported = part;
      } else if (part.type === "routed") {
        step.model = part.model;
      }
    }
    // Parsed once per batch, not per piece: a burst of tokens costs one parse.
    const typed = progress.typed;
    if (typed !== undefined && addTypedText(typed, events)) {
      const partial = partialObject(typed.text);
      const serialized = partial === undefined ? "" : JSON.stringify(partial);
      if (partial !== undefined && serialized !== typed.sent) {
        typed.sent = serialized;
        events.push({ type: "object", partial });
      }
    }
    // A batch is one network read: it may overrun the buffer by that much, then generation waits.
    if (events.length > 0 && !run.log.append(events)) return run.log.waitForRoom(call.signal);
    return undefined;
  });
  // A call that ends while thinking (it asked for nothing, or stopped) thought until here.
  if (progress.reasoningSince !== undefined) endReasoning(progress);
  return outcome;
}

/**
 * The typed answer of a run that asked for one: the last model call's text, parsed and checked
 * (else `invalid_output`, keeping the text). None when the run ended on tool calls.
 */
function typedAnswer(
  output: StructuredOutput | undefined,
  progress: Progress,
  finishReason: string,
): ObjectEvent["partial"] | undefined {
  if (output === undefined || finishReason === callerToolsReason || finishReason === maxToolStepsReason) {
    return undefined;
  }
  const fullContent = () => progress.steps.map((step) => step.texts.join("")).join("");
  return finalObject(progress.typed?.text ?? "", output, fullContent);
}

/** Adds the batch's answer text to the typed answer's; false when it had none (reasoning only). */
function addTypedText(typed: TypedAnswer, events: readonly ChatEvent[]): boolean {
  let added = false;
  for (const event of events) {
    if (event.type !== "content") continue;
    typed.text += event.chunk;
    added = true;
  }
  return added;
}

/** The model stopped thinking (it answered, called a tool or finished): the stretch counts. */
function endReasoning(progress: Progress): void {
  progress.reasoningMs += performance.now() - (progress.reasoningSince as number);
  progress.reasoningSince = undefined;
}

/**
 * Runs one round of tool calls, `concurrency` at a time: every `tool_call` event first, then
 * each `tool_result` as it arrives. The outcomes come back in the order of the calls. Calls of
 * tools that need approval are asked about together, after the `tool_call` events.
 */
async function runToolCalls(
  run: RunContext,
  calls: readonly ModelToolCall[],
  offered: ReadonlySet<string>,
  deps: AgentDependencies,
  concurrency: number,
  askable: boolean,
): Promise<ToolOutcome[]> {
  const { signal } = run;
  const { tools } = deps;
  // Where the caller sees the run's events and can answer, servers' questions go to it.
  const asker = (call: ModelToolCall) =>
    askable
      ? inputAsker(run, call, { timeoutMs: deps.inputTimeoutMs ?? defaultInputTimeoutMs, onInput: deps.onInput })
      : undefined;
  const asks = tools === undefined ? undefined : askApprovals(run, calls, offered, tools, deps);
  if (asks !== undefined) return runApprovedCalls(run, calls, asks, tools as AgentTools, deps, concurrency, asker);
  run.log.append(calls.map(toolCallEvent));
  const outcomes: ToolOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const index = next++;
      const call = calls[index] as ModelToolCall;
      const outcome =
        tools !== undefined && offered.has(call.name)
          ? await tools.call(
              call,
              signal,
              (progress) => {
                if (!signal.aborted) run.log.append([toolProgressEvent(call, progress)]);
              },
              asker(call),
            )
          : { text: `There is no tool named "${call.name}" available to this request.`, isError: true };
      signal.throwIfAborted();
      run.log.append([toolResultEvent(call, outcome)]);
      outcomes[index] = outcome;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls.length) }, worker));
  // Tool events are few: they may overrun the buffer a little, then generation waits for readers.
  await run.log.waitForRoom(signal);
  return outcomes;
}

/** A call waiting for a person: its `tool_approval` event and the answer to come. */
interface Ask {
  event: ToolApprovalEvent;
  answer: Promise<InputAnswer>;
}

/**
 * Registers an approval for each call of a tool that needs one (before any event says so: an
 * answer may come at once) and announces them after the `tool_call` events. Undefined when no
 * call of the round needs one: the round runs as it always did.
 */
function askApprovals(
  run: RunContext,
  calls: readonly ModelToolCall[],
  offered: ReadonlySet<string>,
  tools: AgentTools,
  deps: AgentDependencies,
): (Ask | undefined)[] | undefined {
  let asks: (Ask | undefined)[] | undefined;
  calls.forEach((call, index) => {
    const server = offered.has(call.name) ? tools.approvalServer(call.name) : undefined;
    if (server === undefined) return;
    asks ??= new Array<Ask | undefined>(calls.length).fill(undefined);
    const approvalId = randomUUID();
    const answer = run.inputs.expect(
      approvalId,
      deps.approvalTimeoutMs ?? defaultApprovalTimeoutMs,
      run.signal,
      notAnApproval,
    );
    // Awaited later, maybe after the run was aborted: never an unhandled rejection.
    answer.catch(() => {});
    asks[index] = {
      event: {
        type: "tool_approval",
        approval_id: approvalId,
        id: call.id,
        name: call.name,
        arguments: call.arguments,
        server,
      },
      answer,
    };
  });
  if (asks === undefined) return undefined;
  const events: ChatEvent[] = calls.map(toolCallEvent);
  for (const ask of asks) {
    if (ask === undefined) continue;
    events.push(ask.event);
    deps.onApproval?.("requested");
  }
  run.log.append(events);
  return asks;
}

/**
 * A round with calls that wait for approval: each call goes on when its own answer comes (the
 * others need none), at most `concurrency` tools running at once. A denied call never runs:
 * its error result says why, and the model goes on with it.
 */
async function runApprovedCalls(
  run: RunContext,
  calls: readonly ModelToolCall[],
  asks: readonly (Ask | undefined)[],
  tools: AgentTools,
  deps: AgentDependencies,
  concurrency: number,
  asker: (call: ModelToolCall) => AskInput | undefined,
): Promise<ToolOutcome[]> {
  const { signal } = run;
  const outcomes: ToolOutcome[] = [];
  const slots = new ToolSlots(concurrency);
  await Promise.all(
    calls.map(async (call, index) => {
      const ask = asks[index];
      const verdict = ask === undefined ? undefined : decide(await ask.answer, deps);
      if (verdict !== undefined) deps.onApproval?.(verdict.decision);
      let outcome: ToolOutcome;
      if (verdict !== undefined && verdict.decision !== "approved") {
        outcome = { text: verdict.text, isError: true };
      } else {
        await slots.acquire(signal);
        try {
          outcome = await tools.call(
            call,
            signal,
            (progress) => {
              if (!signal.aborted) run.log.append([toolProgressEvent(call, progress)]);
            },
            asker(call),
          );
        } finally {
          slots.release();
        }
        signal.throwIfAborted();
      }
      const result = toolResultEvent(call, outcome);
      run.log.append([verdict === undefined ? result : { ...result, approval: verdict.decision }]);
      outcomes[index] = outcome;
    }),
  );
  await run.log.waitForRoom(signal);
  return outcomes;
}

/** An answer of another kind (an input's, sent to an approval's id) is refused: the approval still waits. */
function notAnApproval(value: unknown): InvalidAnswer | undefined {
  return ApprovalAnswer.safeParse(value).success
    ? undefined
    : { field: "approved", problem: "this is a tool approval: answer it at /runs/:run_id/approvals/:approval_id" };
}

/** What an answer (or its absence) decides, and what the model is told of a denial. */
function decide(answer: InputAnswer, deps: AgentDependencies): { decision: ApprovalDecision; text: string } {
  if (!answer.answered) {
    const ms = deps.approvalTimeoutMs ?? defaultApprovalTimeoutMs;
    return {
      decision: "timed_out",
      text: `The tool call was denied: nobody approved it within ${ms} ms (timed out). It was not run.`,
    };
  }
  const parsed = ApprovalAnswer.safeParse(answer.value);
  if (parsed.success && parsed.data.approved) return { decision: "approved", text: "" };
  const reason = parsed.success ? parsed.data.reason?.trim() : undefined;
  return {
    decision: "denied",
    text: `The user denied this tool call; it was not run.${reason ? ` Reason: ${reason}` : ""}`,
  };
}

/** At most `size` tool calls at once; a wait for a slot ends with the run's abort. */
class ToolSlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const granted = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(granted), 1);
        reject(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(granted);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free += 1;
    else next();
  }
}

function toolResultEvent(call: ModelToolCall, outcome: ToolOutcome): ToolResultEvent {
  const { structured, resources, images } = outcome;
  return {
    type: "tool_result",
    id: call.id,
    name: call.name,
    result: outcome.text,
    is_error: outcome.isError,
    ...(structured === undefined ? {} : { structured_content: structured as ToolResultEvent["structured_content"] }),
    ...(resources === undefined ? {} : { resources }),
    ...(images === undefined ? {} : { images }),
  };
}

function toolProgressEvent(call: ModelToolCall, progress: ToolProgress): ToolProgressEvent {
  const { total, message } = progress;
  return {
    type: "tool_progress",
    id: call.id,
    name: call.name,
    progress: progress.progress,
    ...(total === undefined ? {} : { total }),
    ...(message === undefined ? {} : { message }),
  };
}

function toolCallEvent(call: ModelToolCall): ToolCallEvent {
  return { type: "tool_call", id: call.id, name: call.name, arguments: call.arguments };
}

function buildMessages(request: RunRequest, defaultSystemPrompt: string): ModelMessage[] {
  const messages: ModelMessage[] = [];
  const { conversation } = request;
  // An explicit empty system prompt means "none"; an absent one means the default.
  const system = request.system_prompt ?? defaultSystemPrompt;
  if (system !== "" && !conversation?.some((message) => message.role === "system")) {
    messages.push({ role: "system", content: system });
  }
  if (conversation !== undefined) {
    messages.push(...conversation);
    return messages;
  }
  for (const { role, content } of request.history ?? []) {
    if (typeof content === "string") messages.push({ role, content });
    else if (role === "user") messages.push({ role, content: historyParts(content) });
    else messages.push({ role, content: messageText(historyParts(content)) });
  }
  const attachments = request.attachments ?? [];
  messages.push({
    role: "user",
    content: attachments.length === 0 ? request.message : messageParts(request.message, attachments),
  });
  return messages;
}

/** What ended the run: Brook's own failure, the run's abort reason, else a bug (`internal`, logged). */
function runError(thrown: unknown, run: RunContext, deps: AgentDependencies): BrookError {
  if (thrown instanceof BrookError) return thrown;
  if (run.signal.aborted) return abortReason(run.signal);
  deps.onInternalError(thrown, run.id);
  return new BrookError("internal");
}

/** The model that answered the run's last call that had an answer; the run's own when none did. */
function answeredBy(run: RunContext, progress: Progress): string {
  for (let index = progress.steps.length - 1; index >= 0; index -= 1) {
    const model = progress.steps[index]?.model;
    if (model !== undefined) return model;
  }
  return run.model;
}

/** The usage of every model call of the run, each priced at the model that answered it. */
async function measureUsage(run: RunContext, progress: Progress, prices: PriceTable): Promise<Usage> {
  let cost = 0;
  let priced = true;
  let counted = false;
  const charge = (model: string, input: number, output: number, cached: number) => {
    const price = prices.price(model, input, output, cached);
    cost += price.cost;
    priced &&= price.priced;
    counted = true;
  };
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  let reasoningTokens = 0;
  let estimated = false;
  // One estimate for the whole run: its time and size budget bound what counting may cost.
  let tally: TokenTally | undefined;
  for (const step of progress.steps) {
    const reported = step.reported;
    // A request the model server refused (401, 429, unreachable…) used nothing and costs nothing.
    // One cancelled while the server was still reading the prompt may be billed: it is estimated.
    if (!step.accepted && reported === undefined && !run.signal.aborted && !step.abandoned) continue;
    const model = step.model ?? run.model;
    if (reported !== undefined) {
      inputTokens += reported.inputTokens;
      outputTokens += reported.outputTokens;
      cachedInputTokens += reported.cachedInputTokens;
      reasoningTokens += reported.reasoningTokens;
      charge(model, reported.inputTokens, reported.outputTokens, reported.cachedInputTokens);
      continue;
    }
    // Counted here: the prompt as the model reads it (framing and tools included), and all the
    // model wrote, its thinking included (it is billed as output).
    estimated = true;
    tally ??= new TokenTally();
    const thought = await tally.text(step.reasoning);
    const input = await tally.prompt(step.messages, step.tools);
    const output = thought + (await tally.text([...step.texts, step.toolText]));
    inputTokens += input;
    outputTokens += output;
    reasoningTokens += thought;
    charge(model, input, output, 0);
  }
  // A run that used nothing is priced (at nothing) as its model, to say whether that has a price.
  if (!counted) charge(run.model, 0, 0, 0);
  const price = { cost: Math.round(cost * 1e10) / 1e10, priced };
  return {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    total_cost: price.cost,
    cached_input_tokens: cachedInputTokens,
    reasoning_tokens: reasoningTokens,
    estimated,
    priced: price.priced,
  };
}

function measureTiming(run: RunContext, progress: Progress, usage: Usage): Timing {
  const now = performance.now();
  const generating = progress.firstOutputAt === undefined ? 0 : (now - progress.firstOutputAt) / 1000;
  const timing: Timing = {
    ttft_ms: progress.firstTokenAt === undefined ? null : round(progress.firstTokenAt - run.startedAt),
    duration_ms: round(now - run.startedAt),
    tokens_per_s: generating > 0 ? round(usage.output_tokens / generating) : 0,
  };
  if (progress.reasoned) {
    // A run that failed mid-thought thought until now.
    const thinking = progress.reasoningSince === undefined ? 0 : now - progress.reasoningSince;
    timing.reasoning_ms = round(progress.reasoningMs + thinking);
  }
  return timing;
}

function finish(run: RunContext, terminal: TerminalEvent, timing: Timing, model: string): RunOutcome {
  run.log.append([terminal]);
  return { terminal, timing, ...(model === run.model ? {} : { model }) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
