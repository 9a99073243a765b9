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
