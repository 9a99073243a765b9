import type { z } from "zod";
import { BrookError } from "./brook-error.js";

/**
 * A field as errors name it: its top-level name, but an image or a file by its whole path
 * (`attachments.1.url`, `history.2.content.1.image_url.url`): a list's name says too little.
 */
function namedPath(path: readonly PropertyKey[]): string {
  const [top] = path;
  const deep = top === "attachments" || (top === "history" && path[2] === "content" && path.length > 3);
  return deep ? path.map(String).join(".") : String(top);
}

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
    const fields: Record<string, string[]> = {};
    for (const issue of error.issues) {
      const field = issue.path.length === 0 ? "body" : namedPath(issue.path);
      fields[field] = [...(fields[field] ?? []), issue.message];
    }
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
