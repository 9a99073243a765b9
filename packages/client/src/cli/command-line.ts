import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./exit-codes.js";

export const defaultUrl = "http://127.0.0.1:8081";

const optionSpecs = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  system: { type: "string", short: "s" },
  model: { type: "string", short: "m" },
  temperature: { type: "string", short: "t" },
  "max-tokens": { type: "string" },
  "reasoning-effort": { type: "string" },
  "no-reasoning": { type: "boolean" },
  schema: { type: "string" },
  "approve-all": { type: "boolean" },
  "deny-all": { type: "boolean" },
  image: { type: "string", multiple: true },
  file: { type: "string", multiple: true },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

type OptionName = keyof typeof optionSpecs;

const connectionOptions = ["url", "api-key", "json", "help"] as const satisfies OptionName[];

/** The commands and which options each accepts. */
export const commands = {
  chat: [
    ...connectionOptions,
    "system",
    "model",
    "temperature",
    "max-tokens",
    "reasoning-effort",
    "no-reasoning",
    "schema",
    "approve-all",
    "deny-all",
    "image",
    "file",
  ],
  health: connectionOptions,
  mcp: connectionOptions,
  stats: connectionOptions,
  help: ["help"],
} as const satisfies Record<string, readonly OptionName[]>;

export type CommandName = keyof typeof commands;

export interface CommandOptions {
  url: string;
  apiKey: string | undefined;
  json: boolean;
  system: string | undefined;
  model: string | undefined;
  temperature: number | undefined;
  maxTokens: number | undefined;
  /** Checked against the request schema by `chat`. */
  reasoningEffort: string | undefined;
  /** Whether to show the model's thinking (`--no-reasoning` hides it). */
  reasoning: boolean;
  /** A JSON Schema file: the answer is a typed object, printed as JSON. */
  schema: string | undefined;
  /** Tool calls that need approval: asked on the terminal (denied without one), or all approved, or all denied. */
  approvals: "ask" | "approve" | "deny";
  /** Images (PNG, JPEG, GIF, WebP) and text files to send with the message, as given. */
  images: string[];
  files: string[];
}

export type Invocation =
  | { kind: "help"; command: CommandName | undefined }
  | { kind: "version" }
  | { kind: "command"; command: CommandName; words: string[]; options: CommandOptions };

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/** Turns argv (without node and the script) into what to do; throws UsageError on any mistake. */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(describeParseError(error), commandIn(argv));
  }
  const { values, positionals, tokens } = parsed;
  const [name, ...words] = positionals;

  if (name === undefined) {
    if (values.version) return { kind: "version" };
    if (values.help) return { kind: "help", command: undefined };
    throw new UsageError("no command given");
  }
  if (!isCommand(name)) throw new UsageError(`unknown command '${name}'`);
  if (name === "help") {
    const topic = words[0];
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command '${topic}'`);
    if (words.length > 1) throw new UsageError("help takes at most one command", "help");
    return { kind: "help", command: topic };
  }
  if (values.help) return { kind: "help", command: name };

  const allowed: readonly string[] = commands[name];
  for (const token of tokens) {
    if (token.kind === "option" && !allowed.includes(token.name)) {
      throw new UsageError(`option '${token.rawName}' does not apply to '${name}'`, name);
    }
  }
  if (name !== "chat" && name !== "mcp" && words.length > 0) throw new UsageError(`'${name}' takes no arguments`, name);
  if (values["approve-all"] && values["deny-all"]) {
    throw new UsageError("--approve-all and --deny-all cannot go together", name);
  }

  return {
    kind: "command",
    command: name,
    words,
    options: {
      url: serverUrl(values.url, env, name),
      apiKey: values["api-key"] ?? (env.BROOK_API_KEY || undefined),
      json: values.json ?? false,
      system: values.system,
      model: values.model,
      temperature: parseNumber(values.temperature, "--temperature", name),
      maxTokens: parseNumber(values["max-tokens"], "--max-tokens", name),
      reasoningEffort: values["reasoning-effort"],
      reasoning: !(values["no-reasoning"] ?? false),
      schema: values.schema,
      approvals: values["approve-all"] ? "approve" : values["deny-all"] ? "deny" : "ask",
      images: values.image ?? [],
      files: values.file ?? [],
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: optionSpecs, allowPositionals: true, strict: true, tokens: true });
}

function commandIn(argv: readonly string[]): CommandName | undefined {
  const first = argv.find((arg) => !arg.startsWith("-"));
  return first !== undefined && isCommand(first) ? first : undefined;
}

/** parseArgs' messages are long and suggest `--`; keep the part that names the problem. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /'([^']+)'/.exec(message)?.[1];
    return option === undefined ? message : `unknown option '${option}'`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const option = /(--[\w-]+)/.exec(message)?.[1];
    if (option !== undefined && / argument missing/.test(message)) return `option '${option}' needs a value`;
    if (option !== undefined && /ambiguous/.test(message)) {
      return `option '${option}' needs a value (got one starting with '-'; write ${option}=VALUE)`;
    }
  }
  return message.split(". ")[0] ?? message;
}

/**
 * Where Brook is: `--url`, else `BROOK_URL`, else the loopback address on `PORT` (the variable
 * `pnpm start` listens on), else the default address.
 */
function serverUrl(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  command: CommandName,
): string {
  if (option !== undefined) return parseUrl(option, "--url", command);
  if (env.BROOK_URL) return parseUrl(env.BROOK_URL, "BROOK_URL", command);
  const port = env.PORT?.trim();
  if (!port) return defaultUrl;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    throw new UsageError(`PORT: '${env.PORT}' is not a port number (1 to 65535); set BROOK_URL instead`, command);
  }
  return `http://127.0.0.1:${Number(port)}`;
}

function parseUrl(text: string, source: string, command: CommandName): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source}: '${text}' is not a URL (e.g. ${defaultUrl})`, command);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${source}: '${text}' must be an http:// or https:// URL`, command);
  }
  return text.replace(/\/+$/, "");
}

function parseNumber(text: string | undefined, option: string, command: CommandName): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value))
    throw new UsageError(`${option}: '${text}' is not a number`, command);
  return value;
}
