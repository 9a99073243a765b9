import type { ChatEvent, Usage } from "@brook/shared";
import picocolors from "picocolors";
import { describe, expect, it } from "vitest";
import type { Terminal } from "../terminal.js";
import { ChatRenderer } from "./chat-renderer.js";

const usage: Usage = {
  input_tokens: 10,
  output_tokens: 3,
  total_tokens: 13,
  total_cost: 0,
  cached_input_tokens: 0,
  reasoning_tokens: 0,
  estimated: false,
  priced: true,
};

/** A terminal whose streams collect what is written; `tty` says whether both are a screen. */
function memoryTerminal(tty: boolean) {
  const written = { stdout: "", stderr: "", both: "" };
  const stream = (name: "stdout" | "stderr") => ({
    isTTY: tty,
    write(text: string) {
      written[name] += text;
      written.both += text;
      return true;
    },
  });
  const plain = picocolors.createColors(false);
  const terminal: Terminal = {
    stdout: stream("stdout"),
    stderr: stream("stderr"),
    stdin: { async *[Symbol.asyncIterator]() {} },
    env: {},
    colors: { stdout: plain, stderr: plain },
    onInterrupt: () => () => {},
    onOutputClosed: () => () => {},
    exit: () => {
      throw new Error("exit");
    },
    ask: async () => undefined,
  };
  return { terminal, written };
}

const run: ChatEvent[] = [
  { type: "start", message: "开始生成响应...", run_id: "r", model: "m" },
  { type: "content", chunk: "Let me add" },
  { type: "tool_call", id: "c1", name: "get-sum", arguments: '{"a":1,"b":2}' },
  { type: "tool_result", id: "c1", name: "get-sum", result: "3", is_error: false },
  { type: "content", chunk: " it: 3." },
  {
    type: "complete",
    full_content: "Let me add it: 3.",
    usage,
    finish_reason: "stop",
    timing: { ttft_ms: 5, duration_ms: 9, tokens_per_s: 1 },
  },
];

describe("ChatRenderer", () => {
  it("keeps stdout to the answer, ending with a newline, and puts tool calls and usage on stderr", () => {
    const { terminal, written } = memoryTerminal(false);
    const renderer = new ChatRenderer(terminal, { json: false });
    for (const event of run) renderer.render(event);

    expect(written.stdout).toBe("Let me add it: 3.\n");
    expect(written.stderr).toBe(
      '⚙ get-sum {"a":1,"b":2}\n↳ get-sum 3\nm · tokens 10 in / 3 out · cost $0 · ttft 5 ms · duration 9 ms · 1.0 tokens/s\n',
    );
  });

  it("ends the last line saying when the answer was cut, and by what", () => {
    const cutAt = (finish_reason: string) => {
      const { terminal, written } = memoryTerminal(false);
      const renderer = new ChatRenderer(terminal, { json: false });
      const complete = run.at(-1) as Extract<ChatEvent, { type: "complete" }>;
      for (const event of [...run.slice(0, -1), { ...complete, finish_reason }]) renderer.render(event);
      return written.stderr.trimEnd().split("\n").at(-1);
    };
    expect(cutAt("length")).toBe(
      "m · tokens 10 in / 3 out · cost $0 · ttft 5 ms · duration 9 ms · 1.0 tokens/s · cut: the answer reached its token limit (finish_reason length)",
    );
    expect(cutAt("max_tool_steps")).toMatch(
      / · cut: the model asked for more rounds of tools .* \(finish_reason max_tool_steps\)$/,
    );
    expect(cutAt("content_filter")).toMatch(/ · cut by the model's content filter \(finish_reason content_filter\)$/);
    expect(cutAt("stop")).toBe("m · tokens 10 in / 3 out · cost $0 · ttft 5 ms · duration 9 ms · 1.0 tokens/s");
  });

  it("on a screen, starts tool lines on a line of their own", () => {
    const { terminal, written } = memoryTerminal(true);
    const renderer = new ChatRenderer(terminal, { json: false });
    for (const event of run) renderer.render(event);

    expect(written.both.split("\n").slice(0, 4)).toEqual([
      "Let me add",
      '⚙ get-sum {"a":1,"b":2}',
      "↳ get-sum 3",
      " it: 3.",
    ]);
  });

  describe("with a model that thinks", () => {
    const thinking: ChatEvent[] = [
      { type: "start", message: "开始生成响应...", run_id: "r", model: "m" },
      { type: "reasoning", chunk: "Hmm, " },
      { type: "reasoning", chunk: "two words." },
      { type: "content", chunk: "Hello there." },
      {
        type: "complete",
        full_content: "Hello there.",
        full_reasoning: "Hmm, two words.",
        usage: { ...usage, reasoning_tokens: 2 },
        finish_reason: "stop",
        timing: { ttft_ms: 5, duration_ms: 9, tokens_per_s: 1, reasoning_ms: 4 },
      },
    ];

    it("streams the thinking to stderr on a line of its own, never to stdout", () => {
      const { terminal, written } = memoryTerminal(false);
      const renderer = new ChatRenderer(terminal, { json: false });
      for (const event of thinking) renderer.render(event);
      expect(written.stdout).toBe("Hello there.\n");
      expect(written.stderr).toBe(
        "Hmm, two words.\nm · tokens 10 in / 3 out (2 reasoning) · cost $0 · ttft 5 ms · thought 4 ms · duration 9 ms · 1.0 tokens/s\n",
      );
    });

    it("dims the thinking on a screen, and starts the answer on the next line", () => {
      const { terminal, written } = memoryTerminal(true);
      terminal.colors.stderr = picocolors.createColors(true);
      const renderer = new ChatRenderer(terminal, { json: false });
      for (const event of thinking.slice(0, 4)) renderer.render(event);
      expect(written.both).toBe("\u001b[2mHmm, \u001b[22m\u001b[2mtwo words.\u001b[22m\nHello there.");
    });

    it("hides the thinking with --no-reasoning, and keeps it in JSON mode", () => {
      const hidden = memoryTerminal(false);
      const renderer = new ChatRenderer(hidden.terminal, { json: false, reasoning: false });
      for (const event of thinking) renderer.render(event);
      expect(hidden.written.stdout).toBe("Hello there.\n");
      expect(hidden.written.stderr).not.toContain("Hmm");

      const json = memoryTerminal(false);
      const jsonRenderer = new ChatRenderer(json.terminal, { json: true, reasoning: false });
      for (const event of thinking) jsonRenderer.render(event);
      expect(
        json.written.stdout
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ).toEqual(thinking);
    });

    it("ends a thought that no answer followed before the closing line", () => {
      const { terminal, written } = memoryTerminal(false);
      const renderer = new ChatRenderer(terminal, { json: false });
      renderer.render({ type: "reasoning", chunk: "Still thinking" });
      renderer.interrupted();
      expect(written.stderr).toBe("Still thinking\nInterrupted: the run was cancelled.\n");
      expect(written.stdout).toBe("");
    });
  });

  it("reports an error with its code and what was used", () => {
    const { terminal, written } = memoryTerminal(false);
    const renderer = new ChatRenderer(terminal, { json: false });
    renderer.render({ type: "content", chunk: "Half" });
    renderer.render({
      type: "error",
      error: "The answer was cut off.",
      code: "upstream_incomplete",
      retryable: true,
      usage,
    });

    expect(written.stdout).toBe("Half\n");
    expect(written.stderr).toBe(
      "error upstream_incomplete: The answer was cut off. (retryable: trying again may work)\ntokens 10 in / 3 out · cost $0\n",
    );
  });

  it("writes one JSON line per event in JSON mode and nothing else on stdout", () => {
    const { terminal, written } = memoryTerminal(false);
    const renderer = new ChatRenderer(terminal, { json: true });
    for (const event of run) renderer.render(event);
    renderer.interrupted();

    expect(
      written.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual(run);
    expect(written.stderr).toBe("Interrupted: the run was cancelled.\n");
  });
});
