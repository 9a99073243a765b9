import { z } from "zod";
import { BrookError } from "./brook-error.js";

/** A 400 that names each bad field: `{ error, code: "bad_request", fields: { message: [...] } }`. */
export class InputError extends BrookError {
  readonly fields: Record<string, string[]>;

  /** `message` defaults to a summary of the fields. */
  constructor(fields: Record<string, string[]>, message?: string) {
    const summary = Object.entries(fields)
      .map(([field, problems]) => `${field}: ${problems.join(", ")}`)
      .join("; ");
    super("bad_request", message ?? `Invalid request: ${summary}`);
    this.fields = fields;
  }

  static fromZod(error: z.ZodError): InputError {
    const flat = z.flattenError(error);
    const fields: Record<string, string[]> = {};
    for (const [field, problems] of Object.entries(flat.fieldErrors)) {
      if (Array.isArray(problems) && problems.length > 0) fields[field] = problems as string[];
    }
    if (flat.formErrors.length > 0) fields.body = flat.formErrors;
    return new InputError(fields);
  }

  /**
   * An InputError naming each field by its whole path (`messages.2.content`), for bodies whose
   * problems lie deep inside lists (conversations).
   */
  static fromZodPaths(error: z.ZodError): InputError {
    const fields: Record<string, string[]> = {};
    for (const issue of error.issues) {
      const field = issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
      fields[field] = [...(fields[field] ?? []), issue.message];
    }
    return new InputError(fields);
  }

  /** Parses external input with `schema`, or throws an InputError naming the fields by their whole paths. */
  static parseDeep<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
    const result = schema.safeParse(input);
    if (!result.success) throw InputError.fromZodPaths(result.error);
    return result.data;
  }

  /** Parses external input with `schema`, or throws an InputError naming the fields. */
  static parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
    const result = schema.safeParse(input);
    if (!result.success) throw InputError.fromZod(result.error);
    return result.data;
  }
}
