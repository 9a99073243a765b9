import type { ModelServerStatus } from "@brook/shared";
import { createUpstreamFetch } from "./upstream-fetch.js";

/** The SDK's own default, used when OPENAI_BASE_URL is not set. */
const defaultBaseURL = "https://api.openai.com/v1";
const messageLimit = 300;

export interface ModelServerCheckOptions {
  /** OPENAI_BASE_URL; the OpenAI API when undefined. */
  baseURL: string | undefined;
  apiKey: string | undefined;
  /** The default model, named in the result when the server lists its models. */
  model: string;
  /** How long to wait for the answer before calling the server unreachable. */
  timeoutMs: number;
  /** Stops the check (shutdown); the result is then `unchecked`. */
  signal: AbortSignal;
}

export interface ModelServerCheck {
  /** For `/health`, which anyone may read: no address, no words of the server. */
  status: ModelServerStatus;
  /** One line for the operator's log when the check failed: the address asked and what it said. */
  warning?: string;
}

/**
 * Asks the model server for its models once (`GET {base}/models` with the key) and says what that
 * tells about the configuration: a wrong key, a base URL without its `/v1`, nothing listening.
 * Never throws: every outcome is a status with a sentence.
 */
export async function checkModelServer(options: ModelServerCheckOptions): Promise<ModelServerCheck> {
  const base = (options.baseURL ?? defaultBaseURL).replace(/\/+$/, "");
  const url = `${base}/models`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const stopped: ModelServerCheck = {
    status: { status: "unchecked", detail: "Brook stopped before the check ended." },
  };
  // The transport of the model calls, so the check sees what they will see.
  const upstream = createUpstreamFetch();
  let response: Response;
  let text: string;
  try {
    response = await upstream.fetch(url, {
      headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` },
      signal: AbortSignal.any([options.signal, timeout]),
    });
    text = await response.text();
  } catch (error) {
    if (options.signal.aborted) return stopped;
    const reason = timeout.aborted ? `no answer within ${options.timeoutMs} ms` : connectionProblem(error);
    return {
      status: { status: "unreachable", detail: `GET /models failed: ${reason} (check OPENAI_BASE_URL).` },
      warning: `The model server cannot be reached: GET ${shown(url)} failed (${reason}). Check OPENAI_BASE_URL.`,
    };
  } finally {
    await upstream.close();
  }
  const answered = `GET /models answered ${response.status}`;
  const said = messageIn(text);
  const logged = `GET ${shown(url)} answered ${response.status}${said === undefined ? "" : ` (${said})`}`;
  if (response.status === 401 || response.status === 403) {
    return {
      status: { status: "rejected_key", detail: `${answered}: check OPENAI_API_KEY.` },
      warning: `The model server rejected the API key: ${logged}. Check OPENAI_API_KEY.`,
    };
  }
  if (response.status === 404) {
    const hint = "check that OPENAI_BASE_URL ends with the API's base path, e.g. /v1";
    return {
      status: { status: "not_found", detail: `${answered}: ${hint}.` },
      warning: `The model server has nothing at that address: ${logged}; ${hint}.`,
    };
  }
  if (!response.ok) {
    return {
      status: { status: "error", detail: `${answered}.` },
      warning: `The model server failed its check: ${logged}.`,
    };
  }
  const ids = modelIds(text);
  if (ids === undefined) {
    const type = response.headers.get("content-type")?.split(";")[0] ?? "no content type";
    return {
      status: { status: "error", detail: `${answered} with ${type}, not a list of models (check OPENAI_BASE_URL).` },
      warning: `The model server answered GET ${shown(url)} with ${type}, not a list of models. Check OPENAI_BASE_URL.`,
    };
  }
  const count = `${ids.length} ${ids.length === 1 ? "model" : "models"}`;
  if (ids.includes(options.model)) {
    return { status: { status: "ok", detail: `${answered}: ${count}, ${options.model} among them.` } };
  }
  // The server answers, but requests that name no model would likely fail.
  const some = ids.slice(0, 5).join(", ") + (ids.length > 5 ? ", …" : "");
  return {
    status: { status: "ok", detail: `${answered}: ${count}, not ${options.model} (check OPENAI_MODEL).` },
    warning: `The model server does not list the default model ${options.model}${ids.length === 0 ? "" : ` (it lists ${some})`}. Check OPENAI_MODEL.`,
  };
}

/** The ids of an OpenAI model list (`{ data: [{ id }] }`), or undefined when the text is none. */
function modelIds(text: string): string[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  return data.map((entry) => (entry as { id?: unknown } | null)?.id).filter((id) => typeof id === "string");
}

/** The message of an OpenAI-style error body, without its closing full stop; else undefined. */
function messageIn(text: string): string | undefined {
  let message: unknown;
  try {
    message = (JSON.parse(text) as { error?: { message?: unknown } } | null)?.error?.message;
  } catch {
    return undefined;
  }
  if (typeof message !== "string") return undefined;
  const trimmed = message.trim().replace(/[\s.。]+$/u, "");
  if (trimmed === "") return undefined;
  return trimmed.length > messageLimit ? `${trimmed.slice(0, messageLimit)}…` : trimmed;
}

/** The URL without any user and password in it. */
function shown(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.href;
}

/** ECONNREFUSED, ENOTFOUND… from a failed request, else the message of its deepest cause. */
function connectionProblem(error: unknown): string {
  let message = String(error);
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_\w+)$/.test(code)) return code;
    message = cause.message;
  }
  return message;
}
