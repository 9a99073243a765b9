import type { ChatEvent, ParsedChatRequest } from "@brook/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunInputs } from "../control/pending-inputs.js";
import type { RunContext } from "../control/run-control.js";
import { BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart, ModelTool } from "../models/chat-model.js";
import { compileOutput } from "../models/structured-output.js";
import { PriceTable } from "../pricing/price-table.js";
import { MemoryRunLog } from "../storage/memory-run-log.js";
import { type AgentDependencies, type AgentTools, executeRun } from "./agent-loop.js";

/** A model that answers each call with the next script: batches of parts, as one network read each. */
class ScriptedModel implements ChatModel {
  readonly mode = "openai" as const;
  readonly calls: ModelCall[] = [];

  constructor(private readonly scripts: ((call: ModelCall) => AsyncIterable<readonly ModelPart[]>)[]) {}

  stream(call: ModelCall): AsyncIterable<readonly ModelPart[]> {
    this.calls.push({ ...call, messages: [...call.messages] });
    const script = this.scripts[this.calls.length - 1];
    if (script === undefined) throw new Error("no script for this call");
    return script(call);
  }
}

const batches = (...reads: ModelPart[][]) =>
  async function* () {
    yield* reads;
  };

const accepted: ModelPart = { type: "accepted" };
const text = (value: string): ModelPart => ({ type: "text", text: value });
const thought = (value: string): ModelPart => ({ type: "reasoning", text: value });
const finish = (reason = "stop"): ModelPart => ({ type: "finish", reason });
const usage = (inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): ModelPart => ({
  type: "usage",
  inputTokens,
  outputTokens,
  cachedInputTokens,
  reasoningTokens,
});

const echoTool: ModelTool = { name: "echo", description: "echoes", parameters: { type: "object" } };

function tools(answer: (name: string, args: string) => { text: string; isError: boolean }): AgentTools {
  return {
    offered: (selection) => (selection === false ? [] : [echoTool]),
    call: async (call) => answer(call.name, call.arguments),
    approvalServer: () => undefined,
  };
}

function runOf(signal = new AbortController().signal) {
  const log = new MemoryRunLog("run-1", { bufferEvents: 1_024, resumable: true });
  const appended: ChatEvent[][] = [];
  const append = log.append.bind(log);
  log.append = (events) => {
    appended.push([...events]);
    return append(events);
  };
  const run: RunContext = {
    id: "run-1",
    model: "gpt-4o-mini",
    startedAt: performance.now(),
    signal,
    log,
    inputs: new RunInputs(),
  };
  return { run, log, appended, events: () => appended.flat() };
}

function deps(model: ChatModel, extra: Partial<AgentDependencies> = {}): AgentDependencies {
  return {
    model,
    prices: new PriceTable(),
    defaultSystemPrompt: "Be brief.",
    maxToolSteps: 3,
    onInternalError: () => {},
    ...extra,
  };
}

const request = (fields: Partial<ParsedChatRequest> = {}) => ({ message: "hello", ...fields }) as ParsedChatRequest;

describe("executeRun", () => {
  it("streams the model's text as content events, one append per network read, and completes with usage", async () => {
    const model = new ScriptedModel([
      batches([accepted], [text("Hel"), text("lo")], [text("!"), finish(), usage(12, 3)]),
    ]);
    const { run, appended, events } = runOf();
    const outcome = await executeRun(run, request(), deps(model));
    expect(appended.map((batch) => batch.map((event) => event.type))).toEqual([
      ["start"],
      ["content", "content"],
      ["content"],
      ["complete"],
    ]);
    expect(events()[0]).toEqual({ type: "start", message: "开始生成响应...", run_id: "run-1", model: "gpt-4o-mini" });
    expect(outcome.terminal).toMatchObject({
      type: "complete",
      full_content: "Hello!",
      finish_reason: "stop",
      usage: { input_tokens: 12, output_tokens: 3, total_tokens: 15, estimated: false, priced: true },
    });
    expect(outcome.terminal.usage.total_cost).toBeGreaterThan(0);
    expect(outcome.timing.ttft_ms).not.toBeNull();
    expect(model.calls[0]?.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello" },
    ]);
  });

  it("sends history and no system prompt when the request asks for none", async () => {
    const model = new ScriptedModel([batches([accepted, text("ok"), finish(), usage(1, 1)])]);
    const history = [
      { role: "user" as const, content: "earlier" },
      { role: "assistant" as const, content: "answer" },
    ];
    await executeRun(runOf().run, request({ system_prompt: "", history, temperature: 0.2 }), deps(model));
    expect(model.calls[0]).toMatchObject({
      messages: [...history, { role: "user", content: "hello" }],
      temperature: 0.2,
    });
  });

  it("runs the tools the model asks for, streams each call and result, and asks the model again with the results", async () => {
    const call = { id: "call_1", name: "echo", arguments: '{"message":"hi"}' };
    const model = new ScriptedModel([
      batches([accepted, { type: "tool_call", call }, finish("tool_calls"), usage(10, 5)]),
      batches([accepted, text("It said hi."), finish(), usage(20, 4)]),
    ]);
    const { run, events } = runOf();
    const outcome = await executeRun(
      run,
      request(),
      deps(model, { tools: tools(() => ({ text: "hi", isError: false })) }),
    );
    expect(events().map((event) => event.type)).toEqual(["start", "tool_call", "tool_result", "content", "complete"]);
    expect(events()[2]).toEqual({ type: "tool_result", id: "call_1", name: "echo", result: "hi", is_error: false });
    expect(model.calls[1]?.messages.slice(-2)).toEqual([
      { role: "assistant", content: "", toolCalls: [call] },
      { role: "tool", toolCallId: "call_1", content: "hi" },
    ]);
    // Usage adds up across both model calls.
    expect(outcome.terminal.usage).toMatchObject({ input_tokens: 30, output_tokens: 9 });
  });

  it("answers a call of a tool the request was not offered with an error result the model sees", async () => {
    const call = { id: "call_1", name: "echo", arguments: "{}" };
    const model = new ScriptedModel([
      batches([accepted, { type: "tool_call", call }, finish("tool_calls"), usage(1, 1)]),
      batches([accepted, text("sorry"), finish(), usage(1, 1)]),
    ]);
    const { run, events } = runOf();
    const used: string[] = [];
    await executeRun(
      run,
      request({ tools: false }),
      deps(model, {
        tools: tools((name) => {
          used.push(name);
          return { text: "ran", isError: false };
        }),
      }),
    );
    expect(used).toEqual([]);
    expect(events().find((event) => event.type === "tool_result")).toMatchObject({ is_error: true });
  });

  it("offers the caller's own tools beside Brook's, and hands the model's calls of them back instead of running them", async () => {
    const weather: ModelTool = { name: "get_weather", description: "weather", parameters: { type: "object" } };
    const shadow: ModelTool = { name: "echo", description: "the caller's echo", parameters: { type: "object" } };
    const calls = [
      { id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' },
      { id: "c2", name: "add", arguments: "{}" },
    ];
    const model = new ScriptedModel([
      batches([
        accepted,
        text("Checking."),
        ...calls.map((call) => ({ type: "tool_call" as const, call })),
        finish("tool_calls"),
      ]),
    ]);
    const ran: string[] = [];
    const { run, events } = runOf();
    const outcome = await executeRun(
      run,
      { ...request(), callerTools: [weather, shadow], toolChoice: "required", reasoning_effort: "low" },
      deps(model, {
        tools: tools((name) => {
          ran.push(name);
          return { text: "ran", isError: false };
        }),
      }),
    );
    // The caller's echo hides Brook's; its first call is made as the caller asked.
    expect(model.calls[0]?.tools).toEqual([weather, shadow]);
    expect(model.calls[0]).toMatchObject({ toolChoice: "required", reasoningEffort: "low" });
    expect(ran).toEqual([]);
    expect(events().map((event) => event.type)).toEqual(["start", "content", "tool_call", "complete"]);
    expect(events()[2]).toEqual({ type: "tool_call", ...calls[0] });
    expect(outcome.terminal).toMatchObject({
      type: "complete",
      finish_reason: "tool_calls",
      full_content: "Checking.",
    });
  });

  it("gives the model a whole conversation, with the default system prompt only when it has none", async () => {
    const model = new ScriptedModel([batches([accepted, finish()]), batches([accepted, finish()])]);
    const conversation = [
      { role: "user" as const, content: "add" },
      { role: "assistant" as const, content: "", toolCalls: [{ id: "c", name: "add", arguments: "{}" }] },
      { role: "tool" as const, toolCallId: "c", content: "5" },
    ];
    await executeRun(runOf().run, { ...request(), conversation }, deps(model));
    expect(model.calls[0]?.messages).toEqual([{ role: "system", content: "Be brief." }, ...conversation]);
    const own = [{ role: "system" as const, content: "Mine." }, ...conversation];
    await executeRun(runOf().run, { ...request(), conversation: own }, deps(model));
    expect(model.calls[1]?.messages).toEqual(own);
  });

  it("completes with max_tool_steps when the model keeps asking for tools", async () => {
    const round = () =>
      batches([
        accepted,
        { type: "tool_call", call: { id: "c", name: "echo", arguments: "{}" } },
        finish("tool_calls"),
      ]);
    const model = new ScriptedModel([round(), round(), round()]);
    const outcome = await executeRun(
      runOf().run,
      request(),
      deps(model, { maxToolSteps: 2, tools: tools(() => ({ text: "again", isError: false })) }),
    );
    expect(model.calls).toHaveLength(3);
    expect(outcome.terminal).toMatchObject({ type: "complete", finish_reason: "max_tool_steps" });
  });

  it("reports a stream cut before its finish as upstream_incomplete, with estimated usage", async () => {
    const model = new ScriptedModel([batches([accepted, text("half an")])]);
    const { run, log } = runOf();
    const outcome = await executeRun(run, request(), deps(model));
    expect(outcome.terminal).toMatchObject({
      type: "error",
      code: "upstream_incomplete",
      retryable: true,
      usage: { estimated: true },
    });
    expect(outcome.terminal.usage.output_tokens).toBeGreaterThan(0);
    expect(log.terminal).toBe(outcome.terminal);
  });

  it("estimates the prompt of a call cut by an upstream error as the model read it: its framing and the tools offered", async () => {
    const cut = () => batches([accepted, text("half an")]);
    const bare = await executeRun(runOf().run, request({ tools: false }), deps(new ScriptedModel([cut()])));
    const offered = await executeRun(
      runOf().run,
      request(),
      deps(new ScriptedModel([cut()]), { tools: tools(() => ({ text: "", isError: false })) }),
    );
    expect(bare.terminal).toMatchObject({ type: "error", code: "upstream_incomplete", usage: { estimated: true } });
    // "Be brief." and "hello", 4 tokens of framing each and 3 to prime the reply.
    expect(bare.terminal.usage.input_tokens).toBe(3 + 4 + 3 + 4 + 1);
    // The echo tool's definition reaches the model as part of its prompt.
    expect(offered.terminal.usage.input_tokens).toBeGreaterThan(bare.terminal.usage.input_tokens + 20);
  });

  it("ends a turn with more tool calls than MAX_TOOL_CALLS_PER_STEP with an error, running none", async () => {
    const calls = Array.from({ length: 6 }, (_, index) => ({ id: `c${index}`, name: "echo", arguments: "{}" }));
    const ran: string[] = [];
    const model = new ScriptedModel([
      batches([
        accepted,
        ...calls.map((call) => ({ type: "tool_call" as const, call })),
        finish("tool_calls"),
        usage(9, 6),
      ]),
    ]);
    const { run, events } = runOf();
    const outcome = await executeRun(
      run,
      request(),
      deps(model, {
        maxToolCallsPerStep: 5,
        tools: tools((name) => {
          ran.push(name);
          return { text: "ok", isError: false };
        }),
      }),
    );
    expect(outcome.terminal).toMatchObject({ type: "error", code: "upstream_invalid_answer", retryable: false });
    expect(outcome.terminal.type === "error" && outcome.terminal.error).toMatch(
      /6 tool calls.*at most 5.*MAX_TOOL_CALLS_PER_STEP/,
    );
    expect(outcome.terminal.usage).toMatchObject({ input_tokens: 9, output_tokens: 6 });
    expect(ran).toEqual([]);
    expect(events().some((event) => event.type === "tool_call")).toBe(false);
  });

  it("runs a turn's tool calls TOOL_CONCURRENCY at a time, and gives their results in the order of the calls", async () => {
    const calls = Array.from({ length: 7 }, (_, index) => ({ id: `c${index}`, name: "echo", arguments: `${index}` }));
    const model = new ScriptedModel([
      batches([accepted, ...calls.map((call) => ({ type: "tool_call" as const, call })), finish("tool_calls")]),
      batches([accepted, text("done"), finish(), usage(1, 1)]),
    ]);
    let running = 0;
    let most = 0;
    const slowTools: AgentTools = {
      offered: () => [echoTool],
      approvalServer: () => undefined,
      call: async (call) => {
        running += 1;
        most = Math.max(most, running);
        // Later calls finish first, so the order of results is not the order of finishing.
        await new Promise((resolve) => setImmediate(resolve));
        for (let index = Number(call.arguments); index < 7; index += 1) await Promise.resolve();
        running -= 1;
        return { text: `result ${call.arguments}`, isError: false };
      },
    };
    const outcome = await executeRun(runOf().run, request(), deps(model, { tools: slowTools, toolConcurrency: 2 }));
    expect(outcome.terminal).toMatchObject({ type: "complete", full_content: "done" });
    expect(most).toBe(2);
    const answered = model.calls[1]?.messages.filter((message) => message.role === "tool");
    expect(answered?.map((message) => message.content)).toEqual(calls.map((call) => `result ${call.arguments}`));
  });

  it("passes the model's own errors on with their code", async () => {
    const model = new ScriptedModel([
      async function* () {
        yield [accepted];
        throw new BrookError("upstream_rate_limited", "slow down");
      },
    ]);
    const outcome = await executeRun(runOf().run, request(), deps(model));
    expect(outcome.terminal).toMatchObject({ type: "error", code: "upstream_rate_limited", error: "slow down" });
  });

  it("ends with the abort's reason when the run is stopped mid-answer, and counts what was sent", async () => {
    const controller = new AbortController();
    const model = new ScriptedModel([
      async function* (call) {
        yield [accepted, text("partial")];
        controller.abort(new BrookError("timeout", "too slow"));
        call.signal.throwIfAborted();
      },
    ]);
    const outcome = await executeRun(runOf(controller.signal).run, request(), deps(model));
    expect(outcome.terminal).toMatchObject({ type: "error", code: "timeout", usage: { estimated: true } });
    expect(outcome.terminal.usage.input_tokens).toBeGreaterThan(0);
  });

  it("reports a bug as internal, with no detail for the caller, and tells who watches for bugs", async () => {
    const bugs: unknown[] = [];
    const model = new ScriptedModel([
      async function* () {
        yield [accepted];
        throw new TypeError("undefined is not a function at /srv/brook/secret.ts");
      },
    ]);
    const outcome = await executeRun(
      runOf().run,
      request(),
      deps(model, { onInternalError: (error) => bugs.push(error) }),
    );
    expect(outcome.terminal).toMatchObject({ type: "error", code: "internal", error: "Internal error." });
    expect(bugs).toHaveLength(1);
  });

  it("bills nothing for a request the model server refused before taking it", async () => {
    const model = new ScriptedModel([
      async function* () {
        yield* [];
        throw new BrookError("upstream_auth");
      },
    ]);
    const outcome = await executeRun(runOf().run, request(), deps(model));
    expect(outcome.terminal.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, total_cost: 0 });
  });
});

describe("executeRun with a reasoning model", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A script step that moves the (fake) clock on, as time passing between network reads. */
  const later = (ms: number) => {
    vi.advanceTimersByTime(ms);
    return [] as ModelPart[];
  };

  it("streams reasoning as its own events in the same append as content, and says how long the model thought", async () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const model = new ScriptedModel([
      async function* () {
        yield [accepted];
        later(200);
        yield [thought("Let me "), thought("think.")];
        later(1_500);
        yield [thought(" Done."), text("Hel")];
        later(100);
        yield [text("lo"), finish(), usage(30, 20, 16, 12)];
      },
    ]);
    const { run, appended } = runOf();
    const outcome = await executeRun(run, request({ reasoning_effort: "high" }), deps(model));
    expect(appended).toEqual([
      [expect.objectContaining({ type: "start" })],
      [
        { type: "reasoning", chunk: "Let me " },
        { type: "reasoning", chunk: "think." },
      ],
      [
        { type: "reasoning", chunk: " Done." },
        { type: "content", chunk: "Hel" },
      ],
      [{ type: "content", chunk: "lo" }],
      [expect.objectContaining({ type: "complete" })],
    ]);
    expect(outcome.terminal).toMatchObject({
      type: "complete",
      full_content: "Hello",
      full_reasoning: "Let me think. Done.",
      usage: { input_tokens: 30, output_tokens: 20, cached_input_tokens: 16, reasoning_tokens: 12, estimated: false },
    });
    // TTFT is the first answer token; the thinking lasted from the first reasoning token until then.
    expect(outcome.timing).toMatchObject({ ttft_ms: 1_700, reasoning_ms: 1_500, duration_ms: 1_800 });
    expect(model.calls[0]?.reasoningEffort).toBe("high");
  });

  it("prices cached input at the model's cache-read rate", async () => {
    const model = new ScriptedModel([batches([accepted, text("ok"), finish(), usage(1_000_000, 1_000_000, 500_000)])]);
    const outcome = await executeRun(runOf().run, request(), deps(model));
    // gpt-4o-mini: 0.15 $/Mtok input, 0.075 cached, 0.60 output.
    expect(outcome.terminal.usage.total_cost).toBeCloseTo(0.5 * 0.15 + 0.5 * 0.075 + 0.6, 10);
  });

  it("never sends reasoning back to the model, across tool rounds", async () => {
    const call = { id: "call_1", name: "echo", arguments: '{"message":"hi"}' };
    const model = new ScriptedModel([
      batches([
        accepted,
        thought("I should call echo."),
        text("Calling."),
        { type: "tool_call", call },
        finish("tool_calls"),
      ]),
      batches([accepted, thought("It answered."), text("It said hi."), finish(), usage(20, 4)]),
    ]);
    const { run, events } = runOf();
    const outcome = await executeRun(
      run,
      request({ history: [{ role: "assistant", content: "before" }] }),
      deps(model, { tools: tools(() => ({ text: "hi", isError: false })) }),
    );
    expect(events().map((event) => event.type)).toEqual([
      "start",
      "reasoning",
      "content",
      "tool_call",
      "tool_result",
      "reasoning",
      "content",
      "complete",
    ]);
    expect(outcome.terminal).toMatchObject({ full_reasoning: "I should call echo.It answered." });
    expect(model.calls[1]?.messages.slice(-2)).toEqual([
      { role: "assistant", content: "Calling.", toolCalls: [call] },
      { role: "tool", toolCallId: "call_1", content: "hi" },
    ]);
    for (const sent of model.calls) expect(JSON.stringify(sent.messages)).not.toMatch(/should call|answered\./);
  });

  it("counts reasoning as output when the server reports no usage", async () => {
    const thinking = "First, the user greets me. A greeting deserves a greeting back.";
    const withThinking = new ScriptedModel([batches([accepted, thought(thinking), text("Hello!"), finish()])]);
    const without = new ScriptedModel([batches([accepted, text("Hello!"), finish()])]);
    const reasoned = (await executeRun(runOf().run, request(), deps(withThinking))).terminal.usage;
    const plain = (await executeRun(runOf().run, request(), deps(without))).terminal.usage;
    expect(reasoned).toMatchObject({ estimated: true, cached_input_tokens: 0 });
    expect(reasoned.reasoning_tokens).toBeGreaterThan(5);
    expect(reasoned.output_tokens).toBe(plain.output_tokens + reasoned.reasoning_tokens);
    expect(reasoned.input_tokens).toBe(plain.input_tokens);
  });

  it("says nothing of reasoning when the model did not reason", async () => {
    const model = new ScriptedModel([batches([accepted, text("Hi"), finish(), usage(3, 1)])]);
    const outcome = await executeRun(runOf().run, request(), deps(model));
    expect(outcome.terminal).not.toHaveProperty("full_reasoning");
    expect(outcome.timing).not.toHaveProperty("reasoning_ms");
    expect(outcome.terminal.usage).toMatchObject({ cached_input_tokens: 0, reasoning_tokens: 0 });
    expect(model.calls[0]?.reasoningEffort).toBeUndefined();
  });

  it("counts the thinking of a run that failed mid-thought until its end", async () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const model = new ScriptedModel([
      async function* () {
        yield [accepted, thought("Hmm")];
        later(400);
        throw new BrookError("upstream_incomplete", "cut");
      },
    ]);
    const outcome = await executeRun(runOf().run, request(), deps(model));
    expect(outcome.terminal).toMatchObject({ type: "error", code: "upstream_incomplete" });
    expect(outcome.timing).toMatchObject({ ttft_ms: null, reasoning_ms: 400 });
  });

  describe("a typed answer (output)", () => {
    const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };
    const typed = (fields: Partial<ParsedChatRequest> = {}) => ({
      ...request(fields),
      structuredOutput: compileOutput({ schema, name: "thing" }),
    });

    it("asks for the schema, adds one object event per read when the value changed, and completes with the object", async () => {
      const model = new ScriptedModel([
        batches(
          [accepted],
          [text('{"na'), text('me": "Ri')],
          [text('ver"')],
          // The value is the same: no object event for this read.
          [text(" }"), finish(), usage(5, 4)],
        ),
      ]);
      const { run, appended } = runOf();
      const outcome = await executeRun(run, typed(), deps(model));
      expect(model.calls[0]?.responseFormat).toEqual({ type: "json_schema", name: "thing", schema });
      expect(appended.slice(1).map((events) => events.map((event) => event.type))).toEqual([
        ["content", "content", "object"],
        ["content", "object"],
        ["content"],
        ["complete"],
      ]);
      const objects = appended.flat().filter((event) => event.type === "object");
      expect(objects).toEqual([
        { type: "object", partial: { name: "Ri" } },
        { type: "object", partial: { name: "River" } },
      ]);
      expect(outcome.terminal).toMatchObject({ type: "complete", object: { name: "River" } });
    });

    it("ends with invalid_output, usage and the text when the answer does not match", async () => {
      const model = new ScriptedModel([batches([accepted], [text('{"name": 1}'), finish(), usage(5, 4)])]);
      const { run } = runOf();
      const outcome = await executeRun(run, typed(), deps(model));
      expect(outcome.terminal).toMatchObject({
        type: "error",
        code: "invalid_output",
        retryable: false,
        full_content: '{"name": 1}',
        usage: { input_tokens: 5, output_tokens: 4 },
      });
      expect((outcome.terminal as { error: string }).error).toContain("/name must be string");
    });

    it("checks the last model call's text only, after tool rounds", async () => {
      const model = new ScriptedModel([
        batches(
          [accepted],
          [text("Let me look."), { type: "tool_call", call: { id: "c1", name: "echo", arguments: "{}" } }],
          [finish("tool_calls")],
        ),
        batches([accepted], [text('{"name": "River"}'), finish()]),
      ]);
      const { run } = runOf();
      const outcome = await executeRun(
        run,
        typed(),
        deps(model, { tools: tools(() => ({ text: "ok", isError: false })) }),
      );
      expect(model.calls[1]?.responseFormat).toMatchObject({ type: "json_schema" });
      expect(outcome.terminal).toMatchObject({ type: "complete", object: { name: "River" } });
    });

    it("a text answer asks for no format and sends no object events", async () => {
      const model = new ScriptedModel([batches([accepted], [text('{"name": "x"}'), finish()])]);
      const { run, events } = runOf();
      const outcome = await executeRun(run, request(), deps(model));
      expect(model.calls[0]?.responseFormat).toBeUndefined();
      expect(events().some((event) => event.type === "object")).toBe(false);
      expect(outcome.terminal).not.toHaveProperty("object");
    });
  });
});

describe("executeRun with tools that need approval", () => {
  afterEach(() => vi.useRealTimers());

  const guarded = (ran: string[]): AgentTools => ({
    offered: () => [echoTool, { ...echoTool, name: "free" }],
    call: async (call) => {
      ran.push(call.id);
      return { text: `ran ${call.arguments}`, isError: false };
    },
    approvalServer: (name) => (name === "echo" ? "files" : undefined),
  });

  const twoCalls = [
    { id: "a", name: "echo", arguments: '{"n":1}' },
    { id: "b", name: "echo", arguments: '{"n":2}' },
    { id: "c", name: "free", arguments: '{"n":3}' },
  ];

  function approvalRun() {
    const model = new ScriptedModel([
      batches([accepted, ...twoCalls.map((call) => ({ type: "tool_call" as const, call })), finish("tool_calls")]),
      batches([accepted, text("done"), finish(), usage(1, 1)]),
    ]);
    return { model, ...runOf() };
  }

  const asked = (events: ChatEvent[]) =>
    events.filter((event) => event.type === "tool_approval").map((event) => event.approval_id);

  it("asks about every call that needs approval together, runs the approved one, denies the other with its reason, and goes on", async () => {
    const { model, run, events } = approvalRun();
    const ran: string[] = [];
    const decisions: string[] = [];
    const done = executeRun(
      run,
      request({ approvals: true } as Partial<ParsedChatRequest>),
      deps(model, { tools: guarded(ran), onApproval: (event) => decisions.push(event) }),
    );
    await vi.waitFor(() => expect(asked(events())).toHaveLength(2));
    // The free call ran without waiting; the others wait.
    await vi.waitFor(() => expect(ran).toEqual(["c"]));
    expect(
      events()
        .map((event) => event.type)
        .slice(0, 6),
    ).toEqual(["start", "tool_call", "tool_call", "tool_call", "tool_approval", "tool_approval"]);
    expect(events()[4]).toMatchObject({
      type: "tool_approval",
      id: "a",
      name: "echo",
      arguments: '{"n":1}',
      server: "files",
    });
    const [first, second] = asked(events()) as [string, string];
    expect(run.inputs.answer(second, { approved: false, reason: "not that file" })).toBe("answered");
    expect(run.inputs.answer(second, { approved: true })).toBe("already_answered");
    expect(run.inputs.answer(first, { approved: true })).toBe("answered");
    const outcome = await done;
    expect(outcome.terminal.type).toBe("complete");
    expect(ran).toEqual(["c", "a"]);
    const results = events().filter((event) => event.type === "tool_result");
    expect(results.find((event) => event.id === "a")).toMatchObject({ is_error: false, approval: "approved" });
    expect(results.find((event) => event.id === "b")).toMatchObject({ is_error: true, approval: "denied" });
    expect(results.find((event) => event.id === "b")?.result).toContain("not that file");
    expect(results.find((event) => event.id === "c")).not.toHaveProperty("approval");
    // The model sees the denial as the call's result.
    expect(
      model.calls[1]?.messages.find((message) => message.role === "tool" && message.toolCallId === "b"),
    ).toMatchObject({
      content: expect.stringContaining("denied"),
    });
    expect(decisions.sort()).toEqual(["approved", "denied", "requested", "requested"]);
  });

  it("denies a call nobody answers within APPROVAL_TIMEOUT_MS, once", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { model, run, events } = approvalRun();
    const ran: string[] = [];
    const decisions: string[] = [];
    const done = executeRun(
      run,
      request({ approvals: true } as Partial<ParsedChatRequest>),
      deps(model, { tools: guarded(ran), approvalTimeoutMs: 1_000, onApproval: (event) => decisions.push(event) }),
    );
    await vi.waitFor(() => expect(asked(events())).toHaveLength(2));
    await vi.advanceTimersByTimeAsync(1_000);
    const outcome = await done;
    expect(outcome.terminal.type).toBe("complete");
    expect(ran).toEqual(["c"]);
    const timedOut = events().filter((event) => event.type === "tool_result" && event.approval === "timed_out");
    expect(timedOut).toHaveLength(2);
    expect(decisions.filter((decision) => decision === "timed_out")).toHaveLength(2);
    // A late answer is refused.
    expect(run.inputs.answer(asked(events())[0] as string, { approved: true })).toBe("already_answered");
  });

  it("ends a run cancelled while it waits with one terminal event, running nothing", async () => {
    const abort = new AbortController();
    const model = new ScriptedModel([
      batches([accepted, { type: "tool_call", call: twoCalls[0] as ModelToolCallLike }, finish("tool_calls")]),
    ]);
    const { run, events } = runOf(abort.signal);
    const ran: string[] = [];
    const done = executeRun(
      run,
      request({ approvals: true } as Partial<ParsedChatRequest>),
      deps(model, { tools: guarded(ran) }),
    );
    await vi.waitFor(() => expect(asked(events())).toHaveLength(1));
    expect(run.inputs.waiting).toBe(true);
    abort.abort(new BrookError("cancelled"));
    const outcome = await done;
    expect(outcome.terminal).toMatchObject({ type: "error", code: "cancelled" });
    expect(events().filter((event) => event.type === "complete" || event.type === "error")).toHaveLength(1);
    expect(ran).toEqual([]);
    expect(run.inputs.waiting).toBe(false);
  });

  it("does not offer tools that need approval where nobody can be asked", async () => {
    const model = new ScriptedModel([batches([accepted, text("hi"), finish(), usage(1, 1)])]);
    const { run } = runOf();
    await executeRun(run, request(), deps(model, { tools: guarded([]) }));
    expect(model.calls[0]?.tools?.map((tool) => tool.name)).toEqual(["free"]);
  });
});

type ModelToolCallLike = { id: string; name: string; arguments: string };
