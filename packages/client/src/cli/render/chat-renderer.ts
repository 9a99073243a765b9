import type { ChatEvent, ErrorEvent } from "@brook/shared";
import type { Terminal } from "../terminal.js";
import { describeFinish, formatRunSummary, formatToolCall, formatToolResult } from "./format.js";

/**
 * Prints a run's events: the answer alone on stdout (so it pipes cleanly), everything about it
 * (the model's thinking, tool calls, usage, timing, errors) on stderr. In JSON mode, every event
 * is one line on stdout.
 */
export class ChatRenderer {
  readonly #terminal: Terminal;
  readonly #json: boolean;
  readonly #showReasoning: boolean;
  /** A typed answer (`--schema`): its text goes to stderr, the final object to stdout. */
  readonly #object: boolean;
  #model: string | undefined;
  /** Whether the model's thinking is being written (until the answer or a note ends it). */
  #reasoningOpen = false;
  /** Whether the thinking written on stderr so far ends a line. */
  #reasoningAtLineStart = true;
  /** Whether the answer written so far ends a line. */
  #answerAtLineStart = true;
  /** Whether the cursor of a terminal showing both streams is at the start of a line. */
  #screenAtLineStart = true;

  /** `reasoning: false` hides the model's thinking (`--no-reasoning`); `object: true` for a typed answer. */
  constructor(terminal: Terminal, options: { json: boolean; reasoning?: boolean; object?: boolean }) {
    this.#terminal = terminal;
    this.#json = options.json;
    this.#showReasoning = options.reasoning ?? true;
    this.#object = options.object ?? false;
  }

  render(event: ChatEvent): void {
    if (this.#json) {
      this.#terminal.stdout.write(`${JSON.stringify(event)}\n`);
      return;
    }
    const colors = this.#terminal.colors.stderr;
    switch (event.type) {
      case "start":
        this.#model = event.model;
        break;
      case "reasoning":
        if (this.#showReasoning && event.chunk !== "") this.#reason(event.chunk);
        break;
      case "content":
        if (event.chunk === "") break;
        // The JSON as it streams is progress, shown dimmed like the thinking: stdout gets the object.
        if (this.#object) {
          this.#reason(event.chunk);
          break;
        }
        this.#endReasoning();
        this.#terminal.stdout.write(event.chunk);
        this.#answerAtLineStart = this.#screenAtLineStart = event.chunk.endsWith("\n");
        break;
      case "tool_call":
        this.#note(formatToolCall(event, colors));
        break;
      case "tool_result":
        this.#note(formatToolResult(event, colors));
        break;
      case "tool_approval":
        this.#note(`${colors.yellow("?")} ${colors.bold(event.name)} waits for approval`);
        break;
      case "input_request":
        this.#note(`${colors.yellow("?")} ${colors.bold(event.name)} waits for your answer`);
        break;
      case "complete":
        this.#endAnswer();
        if (this.#object && event.object !== undefined) {
          this.#terminal.stdout.write(`${JSON.stringify(event.object, null, 2)}\n`);
        }
        {
          const summary = colors.dim(formatRunSummary(this.#model, event.usage, event.timing));
          const cut = describeFinish(event.finish_reason);
          this.#note(cut === undefined ? summary : `${summary}${colors.dim(" · ")}${colors.yellow(cut)}`);
        }
        break;
      case "error":
        this.#endAnswer();
        this.#note(this.#describeError(event));
        this.#note(colors.dim(formatRunSummary(this.#model, event.usage)));
        break;
    }
  }

  /** After Ctrl-C: closes the partial answer and says what happened. */
  interrupted(): void {
    if (!this.#json) this.#endAnswer();
    this.#note(this.#terminal.colors.stderr.yellow("Interrupted: the run was cancelled."));
  }

  #describeError(event: ErrorEvent): string {
    const colors = this.#terminal.colors.stderr;
    const hint = event.retryable ? " (retryable: trying again may work)" : "";
    return `${colors.red(`error ${event.code}:`)} ${event.error}${hint}`;
  }

  /** The model's thinking streams to stderr, dimmed on a terminal, apart from the answer. */
  #reason(chunk: string): void {
    const { stdout, stderr } = this.#terminal;
    // Thinking between tool rounds may come after answer text on the same screen.
    if (!this.#reasoningOpen && stdout.isTTY === true && stderr.isTTY === true && !this.#screenAtLineStart) {
      stderr.write("\n");
    }
    this.#reasoningOpen = true;
    stderr.write(this.#terminal.colors.stderr.dim(chunk));
    this.#reasoningAtLineStart = this.#screenAtLineStart = chunk.endsWith("\n");
  }

  /** The thinking is over: its last line ends, so that what follows starts a line of its own. */
  #endReasoning(): void {
    if (!this.#reasoningOpen) return;
    this.#reasoningOpen = false;
    if (!this.#reasoningAtLineStart) this.#terminal.stderr.write("\n");
    this.#reasoningAtLineStart = this.#screenAtLineStart = true;
  }

  /** An answer on stdout always ends with a newline, like any text a command prints. */
  #endAnswer(): void {
    this.#endReasoning();
    if (this.#answerAtLineStart) return;
    this.#terminal.stdout.write("\n");
    this.#answerAtLineStart = this.#screenAtLineStart = true;
  }

  /** A line on stderr; starts a new line first when it would land in the middle of the answer on screen. */
  #note(line: string): void {
    this.#endReasoning();
    const { stdout, stderr } = this.#terminal;
    const sameScreen = stdout.isTTY === true && stderr.isTTY === true;
    if (sameScreen && !this.#screenAtLineStart) stderr.write("\n");
    stderr.write(`${line}\n`);
    this.#screenAtLineStart = true;
  }
}
