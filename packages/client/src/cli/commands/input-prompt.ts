import type { InputAnswer, InputValue } from "@brook/shared";
import type { InputRequest } from "../../brook-client.js";
import type { Terminal } from "../terminal.js";

/** One field of a requested schema, as the prompt asks for it. */
interface Field {
  name: string;
  title: string;
  type: "string" | "number" | "integer" | "boolean" | "array";
  options: string[] | undefined;
  required: boolean;
  fallback: unknown;
}

function fieldsOf(schema: Record<string, unknown>): Field[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => {
    const items = (property.items ?? {}) as Record<string, unknown>;
    const source = property.type === "array" ? items : property;
    const options = Array.isArray(source.enum)
      ? source.enum.map(String)
      : Array.isArray(source.oneOf)
        ? (source.oneOf as Record<string, unknown>[]).map((variant) => String(variant.const))
        : undefined;
    const type = ["number", "integer", "boolean", "array"].includes(String(property.type))
      ? (property.type as Field["type"])
      : "string";
    return {
      name,
      title: typeof property.title === "string" ? property.title : name,
      type,
      options,
      required: required.has(name),
      fallback: property.default,
    };
  });
}

/** The typed text as the field's value; a string saying what is wrong when it does not fit. */
function typedValue(field: Field, text: string): InputValue | { wrong: string } {
  if (field.type === "boolean") {
    if (/^(y|yes|true)$/i.test(text)) return true;
    if (/^(n|no|false)$/i.test(text)) return false;
    return { wrong: "answer y or n" };
  }
  if (field.type === "number" || field.type === "integer") {
    const number = Number(text);
    if (!Number.isFinite(number) || (field.type === "integer" && !Number.isInteger(number))) {
      return { wrong: `a${field.type === "integer" ? " whole" : ""} number, please` };
    }
    return number;
  }
  if (field.type === "array") {
    const chosen = text
      .split(",")
      .map((each) => each.trim())
      .filter((each) => each !== "");
    const unknown = chosen.find((each) => field.options !== undefined && !field.options.includes(each));
    return unknown === undefined ? chosen : { wrong: `"${unknown}" is not one of ${field.options?.join(", ")}` };
  }
  if (field.options !== undefined && !field.options.includes(text)) {
    return { wrong: `one of ${field.options.join(", ")}, please` };
  }
  return text;
}

/**
 * How `chat` answers an MCP server's question during a tool call: on a terminal, accept, decline
 * or cancel, then each field in turn (required ones marked, defaults shown and taken on an empty
 * line); without a terminal it declines, and says so. One question at a time.
 */
export function inputAnswerer(terminal: Terminal, signal: AbortSignal) {
  const { stderr } = terminal;
  const colors = terminal.colors.stderr;
  let asking = Promise.resolve();
  return ({ event }: InputRequest): Promise<InputAnswer> => {
    const answer = asking.then(async (): Promise<InputAnswer> => {
      const who = `${colors.bold(event.server)} (${event.name})`;
      stderr.write(`${colors.yellow("?")} ${who} asks: ${event.message}\n`);
      const choice = await terminal.ask("  Answer? [Y]es / [d]ecline / [c]ancel ", signal);
      if (choice === undefined) {
        stderr.write(`${colors.red("✗")} declined: no terminal to ask on\n`);
        return { action: "decline" };
      }
      if (/^\s*d/i.test(choice)) return { action: "decline" };
      if (/^\s*c/i.test(choice)) return { action: "cancel" };
      const content: Record<string, InputValue> = {};
      for (const field of fieldsOf(event.requested_schema)) {
        const hints = [
          field.options === undefined
            ? field.type
            : `${field.type === "array" ? "some of" : "one of"} ${field.options.join(", ")}`,
          field.fallback === undefined ? undefined : `default ${String(field.fallback)}`,
        ].filter((hint) => hint !== undefined);
        const prompt = `  ${field.title}${field.required ? colors.red("*") : ""} ${colors.dim(`(${hints.join("; ")})`)}: `;
        for (;;) {
          const typed = (await terminal.ask(prompt, signal))?.trim();
          if (typed === undefined) return { action: "cancel" };
          if (typed === "") {
            if (field.required && field.fallback === undefined) {
              stderr.write(`  ${colors.yellow("required")}\n`);
              continue;
            }
            break;
          }
          const value = typedValue(field, typed);
          if (typeof value === "object" && !Array.isArray(value)) {
            stderr.write(`  ${colors.yellow(value.wrong)}\n`);
            continue;
          }
          content[field.name] = value;
          break;
        }
      }
      return { action: "accept", content };
    });
    asking = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  };
}
