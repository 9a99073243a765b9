/** A JSON Schema, as far as the demo model reads one. */
interface Schema {
  type?: unknown;
  enum?: unknown;
  const?: unknown;
  default?: unknown;
  format?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  items?: unknown;
  properties?: unknown;
  required?: unknown;
  anyOf?: unknown;
  oneOf?: unknown;
}

/** What the question offers to fill arguments with, each taken once in order. */
interface Words {
  question: string;
  numbers: number[];
  paths: string[];
  urls: string[];
}

const urlPattern = /\bhttps?:\/\/[^\s"'`<>)]+/gu;
// A word with a slash, or a file name with an extension: `src/main.ts`, `/tmp`, `./notes`, `README.md`.
const pathPattern = /(?:^|(?<=[\s"'`(]))(?:~|\.{1,2})?\/[^\s"'`)]*|[\w.-]+\/[\w./-]*|[\w-]+\.[A-Za-z][\w]{0,5}\b/gu;
const numberPattern = /-?\d+(?:\.\d+)?/gu;

/**
 * Arguments for a tool from the question, following its JSON Schema: the question's numbers for
 * numbers (in order, within the bounds), a path-looking word for a path, a URL for a URL, an
 * enum's first value, a default where there is one, the question for other text. Required fields
 * only (and those of nested objects), so that optional ones keep the tool's defaults.
 */
export function demoToolArguments(parameters: Record<string, unknown>, question: string): Record<string, unknown> {
  const urls = question.match(urlPattern) ?? [];
  const withoutUrls = question.replace(urlPattern, " ");
  const words: Words = {
    question,
    urls,
    paths: (withoutUrls.match(pathPattern) ?? []).map((path) => path.replace(/[.,;:!?]+$/u, "")),
    numbers: (withoutUrls.match(numberPattern) ?? []).map(Number),
  };
  const value = valueFor(parameters, "", words);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function valueFor(schema: Schema, name: string, words: Words): unknown {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const choices = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  const choice = choices?.find((option: Schema) => option?.type !== "null") as Schema | undefined;
  if (choice !== undefined) return valueFor(choice, name, words);
  const type = Array.isArray(schema.type) ? schema.type.find((option) => option !== "null") : schema.type;
  switch (type) {
    case "number":
    case "integer":
      return numberFor(schema, type === "integer", words);
    case "boolean":
      return true;
    case "array": {
      const item = typeof schema.items === "object" && schema.items !== null ? (schema.items as Schema) : {};
      return [valueFor(item, name, words)];
    }
    case "object":
      return objectFor(schema, words);
    case "null":
      return null;
    default:
      return schema.properties === undefined ? textFor(schema, name, words) : objectFor(schema, words);
  }
}

function objectFor(schema: Schema, words: Words): Record<string, unknown> {
  const properties = (
    typeof schema.properties === "object" && schema.properties !== null ? schema.properties : {}
  ) as Record<string, Schema>;
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const object: Record<string, unknown> = {};
  for (const name of required) {
    if (typeof name !== "string") continue;
    object[name] = valueFor(properties[name] ?? {}, name, words);
  }
  return object;
}

function numberFor(schema: Schema, integer: boolean, words: Words): number {
  const minimum = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const maximum = typeof schema.maximum === "number" ? schema.maximum : undefined;
  let value = words.numbers.shift() ?? minimum ?? 1;
  if (integer) value = Math.round(value);
  if (minimum !== undefined) value = Math.max(value, integer ? Math.ceil(minimum) : minimum);
  if (maximum !== undefined) value = Math.min(value, integer ? Math.floor(maximum) : maximum);
  return value;
}

function textFor(schema: Schema, name: string, words: Words): string {
  const format = typeof schema.format === "string" ? schema.format : "";
  if (format === "uri" || format === "url" || /(?:^|_)(?:url|uri|href|link)s?$/iu.test(name)) {
    return words.urls.shift() ?? "https://example.com/";
  }
  if (/path|file|dir|folder|source|destination/iu.test(name)) return words.paths.shift() ?? ".";
  return words.question;
}
