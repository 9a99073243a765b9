/** How the benchmark asks its upstream for an answer, through the chat message itself. */
export interface AnswerShape {
  tokens: number;
  delayMs: number;
}

/** The words of an answer: `w0`, ` w1`, … (one chunk each; joined they read `w0 w1 …`). */
export function answerToken(index: number): string {
  return index === 0 ? "w0" : ` w${index}`;
}

/** What a benchmark message asks the upstream for. */
export function benchMessage(shape: AnswerShape): string {
  return `bench tokens=${shape.tokens} delay=${shape.delayMs}`;
}

export function shapeOf(text: string): AnswerShape {
  const tokens = /tokens=(\d+)/.exec(text)?.[1];
  const delay = /delay=(\d+)/.exec(text)?.[1];
  return { tokens: tokens === undefined ? 20 : Number(tokens), delayMs: delay === undefined ? 0 : Number(delay) };
}

/** The JSON Schema of a structured benchmark answer (`output.schema`), matching `structuredAnswer`. */
export const structuredSchema = {
  type: "object",
  properties: { items: { type: "array", items: { type: "string" } }, total: { type: "integer" } },
  required: ["items", "total"],
  additionalProperties: false,
} as const;

/**
 * A structured answer as `tokens` chunks: the text answer's words as a JSON list and a long number
 * (`{"items":["w0","w1",…],"total":1234567890123}`), cut into equal pieces, so that cuts fall inside
 * strings and the number (the number is longer than a piece) as a real model's tokens do.
 */
export function structuredAnswer(tokens: number): string[] {
  const words = Array.from({ length: tokens }, (_, index) => `w${index}`);
  const text = JSON.stringify({ items: words, total: 1_234_567_890_123 });
  const pieces: string[] = [];
  for (let index = 0; index < tokens; index++) {
    pieces.push(
      text.slice(Math.floor((index * text.length) / tokens), Math.floor(((index + 1) * text.length) / tokens)),
    );
  }
  return pieces;
}
