import { CircleAlert, FlaskConical, X } from "lucide-react";

/** Demo mode: say so, and how to connect a real model (in a line or two on a phone). */
export function DemoBanner({ onDismiss }: { onDismiss(): void }) {
  const code = "font-mono text-[0.9em]";
  return (
    <div
      role="note"
      data-testid="demo-banner"
      className="flex items-start gap-2 border-b border-amber-300/50 bg-amber-50 py-1.5 pr-1.5 pl-3 text-xs leading-5 text-amber-950 sm:gap-2.5 sm:py-2.5 sm:pr-2 sm:pl-4 sm:text-sm dark:border-amber-400/20 dark:bg-amber-400/10 dark:text-amber-100"
    >
      <FlaskConical aria-hidden="true" className="mt-0.5 size-4 shrink-0" />
      <p className="flex-1">
        <strong className="font-semibold">Demo mode:</strong> an offline model answers.{" "}
        <span className="sm:hidden">
          For a real one, set <code className={code}>OPENAI_API_KEY</code> or{" "}
          <code className={code}>OPENAI_BASE_URL</code>.
        </span>
        <span className="hidden sm:inline">
          To use a real one, restart Brook with <code className={code}>OPENAI_API_KEY</code> set, or{" "}
          <code className={code}>OPENAI_BASE_URL</code> for a local server (Ollama, vLLM, llama.cpp).
        </span>
      </p>
      <button
        type="button"
        onClick={onDismiss}
        aria-label="Hide the demo mode notice"
        className="rounded-md p-0.5 opacity-70 hover:bg-amber-200/60 hover:opacity-100 sm:p-1 dark:hover:bg-amber-400/20"
      >
        <X aria-hidden="true" className="size-4" />
      </button>
    </div>
  );
}

/** Brook did not answer its health check. */
export function OfflineBanner({ message, onRetry }: { message: string; onRetry(): void }) {
  return (
    <div role="alert" className="flex items-center gap-2.5 border-b border-danger/30 bg-danger/5 px-4 py-2.5 text-sm">
      <CircleAlert aria-hidden="true" className="size-4 shrink-0 text-danger" />
      <p className="flex-1">{message}</p>
      <button type="button" onClick={onRetry} className="text-xs font-medium underline underline-offset-2">
        Retry
      </button>
    </div>
  );
}
