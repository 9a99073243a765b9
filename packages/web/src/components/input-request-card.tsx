import type { InputAnswer } from "@brook/client";
import { MessageCircleQuestion } from "lucide-react";
import { type FormEvent, useState } from "react";
import type { ToolCall, ToolInput } from "../chat/conversation.ts";
import { brook, describeError } from "../lib/brook.ts";

type Answer = NonNullable<ToolInput["answer"]>;

const answered: Record<Answer, string> = {
  accept: "Sent",
  decline: "Declined",
  cancel: "Cancelled",
  closed: "Closed",
};

/** One field of a requested schema, as the form shows it. */
interface Field {
  name: string;
  title: string;
  description: string | undefined;
  kind: "string" | "number" | "integer" | "boolean" | "choice" | "choices";
  required: boolean;
  options: string[];
  format: string | undefined;
  initial: string | boolean | string[];
}

/** The flat fields MCP allows in a form (string, number, integer, boolean, enums), in order. */
function fieldsOf(schema: Record<string, unknown>): Field[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => {
    const choices = choicesOf(property);
    const itemChoices =
      property.type === "array" && typeof property.items === "object" && property.items !== null
        ? choicesOf(property.items as Record<string, unknown>)
        : undefined;
    const kind: Field["kind"] =
      itemChoices !== undefined
        ? "choices"
        : choices !== undefined
          ? "choice"
          : property.type === "boolean" || property.type === "number" || property.type === "integer"
            ? property.type
            : "string";
    const fallback = property.default;
    const initial =
      kind === "boolean"
        ? fallback === true
        : kind === "choices"
          ? Array.isArray(fallback)
            ? fallback.map(String)
            : []
          : fallback === undefined
            ? ""
            : String(fallback);
    return {
      name,
      title: typeof property.title === "string" ? property.title : name,
      description: typeof property.description === "string" ? property.description : undefined,
      kind,
      required: required.has(name),
      options: itemChoices ?? choices ?? [],
      format: typeof property.format === "string" ? property.format : undefined,
      initial,
    };
  });
}

/** An enum's values: `enum`, or `oneOf`/`anyOf` of `const`s (titled enums). */
function choicesOf(schema: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  const variants = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined;
  if (variants === undefined) return undefined;
  const values = (variants as Record<string, unknown>[]).flatMap((variant) =>
    variant.const === undefined ? [] : [String(variant.const)],
  );
  return values.length > 0 ? values : undefined;
}

const inputTypes: Record<string, string> = { email: "email", uri: "url", date: "date", "date-time": "datetime-local" };

/** The content to send: fields left empty are left out (the server's defaults apply), numbers as numbers. */
function contentOf(
  fields: readonly Field[],
  values: Record<string, string | boolean | string[]>,
): InputAnswer["content"] {
  const content: NonNullable<InputAnswer["content"]> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === "") continue;
    if (field.kind === "number" || field.kind === "integer") content[field.name] = Number(value);
    else content[field.name] = value;
  }
  return content;
}

/**
 * An MCP server's question during a tool call (`input_request`): its message and a small form
 * made from the requested schema (text, numbers, yes/no, choices; required fields marked), with
 * Accept, Decline and Cancel. Content that does not fit is refused by Brook, naming the field.
 */
export function InputRequestCard({
  tool,
  input,
  runId,
}: {
  tool: ToolCall;
  input: ToolInput;
  runId?: string | undefined;
}) {
  const fields = fieldsOf(input.schema);
  const [values, setValues] = useState<Record<string, string | boolean | string[]>>(() =>
    Object.fromEntries(fields.map((field) => [field.name, field.initial])),
  );
  const [sent, setSent] = useState<Answer | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  // What this page sent says more than "closed", which the call's end makes of any question.
  const state = sent ?? input.answer;
  const pending = state === undefined && runId !== undefined;

  async function answer(action: InputAnswer["action"]) {
    if (runId === undefined) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await brook.answerInput(
        runId,
        input.id,
        action === "accept" ? { action, content: contentOf(fields, values) } : { action },
      );
      setSent(action);
    } catch (error) {
      const { code, message } = describeError(error);
      // Someone answered first (another tab, the CLI), or it timed out: the question is closed.
      if (code === "already_answered") setSent("closed");
      else setFailure(message);
    } finally {
      setBusy(false);
    }
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void answer("accept");
  };
  const set = (name: string, value: string | boolean | string[]) => setValues((now) => ({ ...now, [name]: value }));

  return (
    <section
      data-testid="input-request"
      data-tool={tool.name}
      data-state={state ?? "pending"}
      aria-label={`Question from ${input.server}`}
      className="space-y-2 rounded-xl border border-sky-500/40 bg-sky-500/5 px-3 py-2.5 text-sm"
    >
      <header className="flex flex-wrap items-center gap-2">
        <MessageCircleQuestion aria-hidden="true" className="size-4 text-sky-600 dark:text-sky-400" />
        <span className="font-medium">
          <span className="font-mono text-[13px]">{tool.name}</span>
          <span className="text-muted-foreground"> on {input.server} asks</span>
        </span>
        <span data-testid="input-state" className="ml-auto text-xs text-muted-foreground">
          {state === undefined ? "Needs your answer" : answered[state]}
        </span>
      </header>
      <p data-testid="input-message" className="whitespace-pre-wrap">
        {input.message}
      </p>
      {pending && (
        <form onSubmit={submit} className="space-y-2">
          {fields.map((field) => (
            <FieldInput key={field.name} field={field} value={values[field.name]} onChange={set} />
          ))}
          <div className="flex flex-wrap items-center gap-2">
            <button
              type="submit"
              disabled={busy}
              className="rounded-lg bg-emerald-600 px-3 py-1 text-sm font-medium text-white disabled:opacity-50"
            >
              Accept
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => void answer("decline")}
              className="rounded-lg border border-danger/40 px-3 py-1 text-sm font-medium text-danger disabled:opacity-50"
            >
              Decline
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => void answer("cancel")}
              className="rounded-lg border border-border px-3 py-1 text-sm font-medium disabled:opacity-50"
            >
              Cancel
            </button>
          </div>
        </form>
      )}
      {failure !== undefined && (
        <p role="alert" className="text-xs text-danger">
          {failure}
        </p>
      )}
    </section>
  );
}

function FieldInput({
  field,
  value,
  onChange,
}: {
  field: Field;
  value: string | boolean | string[] | undefined;
  onChange: (name: string, value: string | boolean | string[]) => void;
}) {
  const id = `input-field-${field.name}`;
  const label = (
    <span className="font-medium">
      {field.title}
      {field.required && (
        <span aria-hidden="true" className="text-danger">
          {" "}
          *
        </span>
      )}
    </span>
  );
  const hint = field.description && <span className="block text-xs text-muted-foreground">{field.description}</span>;
  const box = "w-full rounded-lg border border-border bg-background px-2 py-1 text-sm";
  if (field.kind === "boolean") {
    return (
      <label htmlFor={id} className="flex items-center gap-2">
        <input
          id={id}
          type="checkbox"
          checked={value === true}
          onChange={(event) => onChange(field.name, event.target.checked)}
        />
        {label}
        {hint}
      </label>
    );
  }
  if (field.kind === "choices") {
    const chosen = Array.isArray(value) ? value : [];
    return (
      <fieldset className="space-y-1">
        <legend>{label}</legend>
        {hint}
        {field.options.map((option) => (
          <label key={option} className="mr-3 inline-flex items-center gap-1">
            <input
              type="checkbox"
              checked={chosen.includes(option)}
              onChange={(event) =>
                onChange(
                  field.name,
                  event.target.checked ? [...chosen, option] : chosen.filter((each) => each !== option),
                )
              }
            />
            {option}
          </label>
        ))}
      </fieldset>
    );
  }
  return (
    <label htmlFor={id} className="block space-y-1">
      {label}
      {hint}
      {field.kind === "choice" ? (
        <select
          id={id}
          required={field.required}
          value={typeof value === "string" ? value : ""}
          onChange={(event) => onChange(field.name, event.target.value)}
          className={box}
        >
          {!field.required && <option value="">—</option>}
          {field.required && value === "" && <option value="">Choose…</option>}
          {field.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          required={field.required}
          type={field.kind === "string" ? (inputTypes[field.format ?? ""] ?? "text") : "number"}
          step={field.kind === "integer" ? 1 : field.kind === "number" ? "any" : undefined}
          value={typeof value === "string" ? value : ""}
          onChange={(event) => onChange(field.name, event.target.value)}
          className={box}
        />
      )}
    </label>
  );
}
