import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type ApprovalAnswer, type Attachment, type ChatEvent, ChatRequest } from "@brook/shared";
import { attachmentFromBytes } from "../../attachments.js";
import type { ApprovalRequest } from "../../brook-client.js";
import type { CommandOptions } from "../command-line.js";
import { exitCodes, UsageError } from "../exit-codes.js";
import { ChatRenderer } from "../render/chat-renderer.js";
import type { Terminal } from "../terminal.js";
import type { Command, CommandContext } from "./command-context.js";
import { inputAnswerer } from "./input-prompt.js";

/** Which option set each request field, to name it in errors. */
const optionOfField: Record<string, string> = {
  message: "message",
  system_prompt: "--system",
  model: "--model",
  temperature: "--temperature",
  max_tokens: "--max-tokens",
  reasoning_effort: "--reasoning-effort",
  output: "--schema",
  attachments: "--image/--file",
};

/** Why a run's stream was stopped from this side. */
const interrupted = "interrupted";
const outputClosed = "output closed";

/**
 * `brook chat`: streams one answer. Ctrl-C aborts the stream, which cancels the run on the server
 * (and its model call); a second Ctrl-C exits at once.
 */
export const chatCommand: Command = async ({ terminal, client, options, words }) => {
  const schema = options.schema === undefined ? undefined : await readSchema(options.schema);
  const attachments = await readAttachments(options);
  const request = chatRequest(await readMessage(words, terminal), options, schema, attachments);
  const renderer = new ChatRenderer(terminal, {
    json: options.json,
    reasoning: options.reasoning,
    object: schema !== undefined,
  });
  const controller = new AbortController();
  let interrupts = 0;
  const stopInterrupts = terminal.onInterrupt(() => {
    interrupts += 1;
    if (interrupts > 1) terminal.exit(exitCodes.interrupted);
    controller.abort(interrupted);
  });
  // Nobody reads the answer any more: cancel the run quietly.
  const stopOutputClosed = terminal.onOutputClosed(() => controller.abort(outputClosed));
  let runId: string | undefined;
  try {
    let last: ChatEvent | undefined;
    const onApproval = approvalAnswerer(terminal, options.approvals, controller.signal);
    const onInputRequest = inputAnswerer(terminal, controller.signal);
    for await (const event of client.streamChat(request, { signal: controller.signal, onApproval, onInputRequest })) {
      if (event.type === "start") runId = event.run_id;
      renderer.render(event);
      last = event;
    }
    if (last?.type === "complete") return exitCodes.ok;
    if (last?.type === "error") return exitCodes.error;
    throw new Error("the stream ended before the answer was complete");
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    const quiet = controller.signal.reason === outputClosed;
    if (!quiet) renderer.interrupted();
    // The client cancels the run too, without waiting; this process is about to end, so wait here.
    if (runId !== undefined) await cancelRun(client, runId);
    return quiet ? exitCodes.ok : exitCodes.interrupted;
  } finally {
    stopInterrupts();
    stopOutputClosed();
  }
};

/**
 * How `chat` answers a tool call that needs approval: `--approve-all`, `--deny-all`, else y/N on
 * the terminal, one call at a time; without a terminal it denies, and says so.
 */
function approvalAnswerer(terminal: Terminal, mode: CommandOptions["approvals"], signal: AbortSignal) {
  const { stderr } = terminal;
  const colors = terminal.colors.stderr;
  let asking = Promise.resolve();
  return ({ event }: ApprovalRequest): Promise<ApprovalAnswer> => {
    const call = `${colors.bold(event.name)}${event.server === undefined ? "" : ` (${event.server})`} ${colors.dim(event.arguments)}`;
    if (mode === "approve") {
      stderr.write(`${colors.green("✓")} ${call} approved (--approve-all)\n`);
      return Promise.resolve({ approved: true });
    }
    if (mode === "deny") {
      stderr.write(`${colors.red("✗")} ${call} denied (--deny-all)\n`);
      return Promise.resolve({ approved: false, reason: "denied with --deny-all" });
    }
    // One question at a time, in the order the calls came.
    const answer = asking.then(async (): Promise<ApprovalAnswer> => {
      const typed = await terminal.ask(`? ${call} wants to run. Approve? [y/N] `, signal);
      if (typed === undefined) {
        stderr.write(`${colors.red("✗")} ${call} denied: no terminal to ask on (use --approve-all or --deny-all)\n`);
        return { approved: false, reason: "no terminal to ask on" };
      }
      return /^\s*y(es)?\s*$/i.test(typed) ? { approved: true } : { approved: false, reason: "denied at the prompt" };
    });
    asking = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  };
}

/** Asks the server to cancel the run, for at most a few seconds; a failure only means it ends on its own. */
async function cancelRun(client: CommandContext["client"], runId: string): Promise<void> {
  await client.trpc.chat.cancel.mutate({ run_id: runId }, { signal: AbortSignal.timeout(3000) }).catch(() => {});
}

/** The words joined by spaces; a '-' (or no words at all) stands for stdin. */
async function readMessage(words: readonly string[], terminal: Terminal): Promise<string> {
  const wantsStdin = words.length === 0 || words.includes("-");
  if (words.length === 0 && terminal.stdin.isTTY === true) {
    throw new UsageError("no message: give it as an argument or pipe it to stdin", "chat");
  }
  const input = wantsStdin ? (await readAll(terminal.stdin)).replace(/\s+$/, "") : "";
  const text = words.filter((word) => word !== "-").join(" ");
  const message = [text, input].filter((part) => part !== "").join("\n\n");
  if (message.trim() === "") {
    throw new UsageError(wantsStdin ? "the message read from stdin is empty" : "the message is empty", "chat");
  }
  return message;
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** `--image` and `--file` read from disk: each named in the error when it cannot be read or sent. */
async function readAttachments(options: CommandOptions): Promise<Attachment[]> {
  const read = async (path: string, option: "--image" | "--file") => {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new UsageError(
        `${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        "chat",
      );
    }
    let attachment: Attachment;
    try {
      attachment = attachmentFromBytes(basename(path), bytes);
    } catch (error) {
      throw new UsageError(`${option}: ${(error as Error).message}`, "chat");
    }
    if (option === "--image" && attachment.type !== "image") {
      throw new UsageError(`--image: ${path} is not a PNG, JPEG, GIF or WebP image`, "chat");
    }
    return attachment;
  };
  return Promise.all([
    ...options.images.map((path) => read(path, "--image")),
    ...options.files.map((path) => read(path, "--file")),
  ]);
}

/** The `--schema` file's JSON; the server checks that it is a JSON Schema of an object. */
async function readSchema(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`--schema: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`, "chat");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--schema: ${path} is not JSON (${(error as Error).message})`, "chat");
  }
}

/** Checked against the shared request schema here, so a bad flag is named before anything is sent. */
function chatRequest(
  message: string,
  options: CommandOptions,
  schema: unknown,
  attachments: Attachment[],
): ChatRequest {
  const request = {
    message,
    ...(options.system === undefined ? {} : { system_prompt: options.system }),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
    ...(options.reasoningEffort === undefined ? {} : { reasoning_effort: options.reasoningEffort }),
    ...(schema === undefined ? {} : { output: { schema } }),
    ...(attachments.length === 0 ? {} : { attachments }),
  };
  const parsed = ChatRequest.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "message");
    throw new UsageError(`${optionOfField[field] ?? field}: ${issue?.message ?? "invalid"}`, "chat");
  }
  return parsed.data;
}
