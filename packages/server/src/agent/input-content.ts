import { InputAnswer, type InputValue } from "@brook/shared";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { InvalidAnswer } from "../control/pending-inputs.js";

// ajv-formats is CommonJS: its function is the default export's `default` under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** What a person's answer to a server's question is checked against, and completed with. */
export interface InputContent {
  /** What is wrong with an answer (its shape, or an accepted content that does not fit), or undefined. */
  check(value: unknown): InvalidAnswer | undefined;
  /** The accepted content with the schema's defaults for the fields left out (as the spec says). */
  fill(content: Record<string, InputValue> | undefined): Record<string, InputValue>;
}

/**
 * The requested schema of one question, compiled (formats such as `email` and `date` checked).
 * Throws when the server's schema cannot be compiled.
 */
export function inputContent(requestedSchema: Record<string, unknown>): InputContent {
  // One compiler per question: questions are rare, and nothing is cached for ever.
  const ajv = new Ajv({ useDefaults: true, strict: false, allErrors: false });
  addFormats(ajv);
  const validate = ajv.compile(requestedSchema);
  const fill = (content: Record<string, InputValue> | undefined) => {
    const filled = structuredClone(content ?? {});
    validate(filled);
    return filled;
  };
  return {
    fill,
    check(value) {
      const parsed = InputAnswer.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue === undefined || issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
        return { field, problem: issue?.message ?? "is not an answer to this question" };
      }
      if (parsed.data.action !== "accept") return undefined;
      const filled = structuredClone(parsed.data.content ?? {});
      if (validate(filled)) return undefined;
      const error = validate.errors?.[0];
      if (error === undefined) return { field: "content", problem: "does not fit the requested schema" };
      if (error.keyword === "required") {
        return { field: `content.${String(error.params.missingProperty)}`, problem: "is required" };
      }
      const path = error.instancePath.split("/").slice(1).join(".");
      return { field: path === "" ? "content" : `content.${path}`, problem: error.message ?? "does not fit" };
    },
  };
}
