import type { ObjectEvent, OutputSpec } from "@brook/shared";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Allow, parse as parsePartial } from "partial-json";
import { BrookError } from "../errors/brook-error.js";
import { InputError } from "../errors/input-error.js";

/** The `response_format` a model call asks for: a schema (typed answers), or any JSON object (OpenAI's `json_object`). */
export type ResponseFormat =
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean }
  | { type: "json_object" };

/** A JSON value, as object events carry it. */
type Json = ObjectEvent["partial"];

/** A request's `output`, its schema compiled: what the model is asked for, and the check of its answer. */
export interface StructuredOutput {
  readonly format: Extract<ResponseFormat, { type: "json_schema" }>;
  /** What in `value` does not match the schema; undefined when it matches. (No Ajv type here: the router's types reach the client.) */
  mismatch(value: unknown): string | undefined;
}

// Formats (`date-time`, `email`) are hints to the model: unknown keywords and formats are not refusals.
const options = { strict: false, validateFormats: false, allErrors: true } as const;
// Draft 2020-12 (Zod's `toJSONSchema`, OpenAI's examples) unless the schema names draft 07.
const draft2020 = new Ajv2020(options);
const draft07 = new Ajv(options);

// Compiling costs milliseconds and callers send the same schema again and again: the latest
// compiled outputs are kept by their spec's text, a bounded number of them and only small ones.
const compiled = new Map<string, StructuredOutput>();
const compiledMax = 256;
const compiledSpecMaxChars = 64 * 1024;

/**
 * Compiles the schema of a request's `output` at the boundary: one that is not valid JSON Schema,
 * or that does not describe an object, is a 400 naming `field`.
 */
export function compileOutput(spec: OutputSpec, field = "output.schema"): StructuredOutput {
  const key = JSON.stringify(spec);
  const known = compiled.get(key);
  if (known !== undefined) return known;
  const output = compileUncached(spec, field);
  if (key.length <= compiledSpecMaxChars) {
    if (compiled.size >= compiledMax) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, output);
  }
  return output;
}

function compileUncached(spec: OutputSpec, field: string): StructuredOutput {
  const { schema } = spec;
  if (schema.type !== "object") {
    throw new InputError({ [field]: ['must be the JSON Schema of an object (its "type" is "object")'] });
  }
  const ajv = typeof schema.$schema === "string" && schema.$schema.includes("draft-07") ? draft07 : draft2020;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new InputError({ [field]: [`is not a valid JSON Schema: ${(error as Error).message}`] });
  } finally {
    // Ajv keeps every schema it compiled (by object, and by `$id`): each request brings its own.
    ajv.removeSchema(schema);
  }
  const format: StructuredOutput["format"] = { type: "json_schema", name: spec.name ?? "answer", schema };
  if (spec.description != null) format.description = spec.description;
  if (spec.strict != null) format.strict = spec.strict;
  return {
    format,
    mismatch: (value) => (validate(value) ? undefined : describeErrors(validate.errors ?? [])),
  };
}

/** The value parsed so far of an answer still streaming; undefined while nothing is (or when it is not JSON). */
export function partialObject(text: string): Json | undefined {
  try {
    // Numbers are left out until they end: `12` of `125` would be a wrong value, not a partial one.
    return parsePartial(text, Allow.ALL & ~Allow.NUM);
  } catch {
    return undefined;
  }
}

/**
 * The final answer, parsed and checked: an `invalid_output` error says what did not match, and
 * keeps the run's text (`fullContent`, asked for only then).
 */
export function finalObject(text: string, output: StructuredOutput, fullContent: () => string = () => text): Json {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BrookError("invalid_output", `The model's answer is not JSON: ${(error as Error).message}`, {
      fullContent: fullContent(),
    });
  }
  const mismatch = output.mismatch(value);
  if (mismatch !== undefined) {
    throw new BrookError("invalid_output", `The model's answer does not match output.schema: ${mismatch}`, {
      fullContent: fullContent(),
    });
  }
  return value;
}

function describeErrors(errors: readonly ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((error) => `${error.instancePath === "" ? "the answer" : error.instancePath} ${error.message ?? "is invalid"}`)
    .join("; ");
}
