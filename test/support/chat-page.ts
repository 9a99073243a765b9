/** What the browser tests do with Brook's chat page: find its parts, send a message, wait for an answer. */
import type { Page } from "playwright-core";

export function composer(page: Page) {
  return page.getByRole("textbox", { name: "Message" });
}

export function answers(page: Page) {
  return page.locator('[data-role="assistant"]');
}

export async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

/** Waits until the last answer has finished (its usage line is shown). */
export async function waitForAnswer(page: Page): Promise<void> {
  await answers(page).last().locator('[data-testid="usage"]').waitFor({ timeout: 15_000 });
}
