import { ChevronRight, CircleAlert, CircleCheck, LoaderCircle, Wrench } from "lucide-react";
import type { ToolCall } from "../chat/conversation.ts";

/** Pretty-prints JSON text; anything else is shown as it came. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** "Running…", or the progress the tool last reported. */
function runningLabel(tool: ToolCall): string {
  const report = tool.progress;
  if (report === undefined) return "Running…";
  const share =
    report.total === undefined || report.total <= 0
      ? `${report.progress}`
      : `${Math.round((report.progress / report.total) * 100)}%`;
  return report.message === undefined ? `Running… ${share}` : `${report.message} (${share})`;
}

/** One tool call: name and state in the summary, arguments and result when opened. */
export function ToolCard({ tool }: { tool: ToolCall }) {
  const running = tool.result === undefined;
  const state = running ? "running" : tool.isError ? "error" : "done";
  return (
    <details
      data-testid="tool-card"
      data-tool={tool.name}
      data-state={state}
      className="group rounded-xl border border-border bg-surface/60 text-sm"
    >
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2 select-none [&::-webkit-details-marker]:hidden">
        <ChevronRight
          aria-hidden="true"
          className="size-4 text-muted-foreground transition-transform group-open:rotate-90"
        />
        <Wrench aria-hidden="true" className="size-3.5 text-muted-foreground" />
        <span className="font-mono text-[13px] font-medium">{tool.name}</span>
        <span className="ml-auto flex items-center gap-1 text-xs text-muted-foreground">
          {state === "running" && <LoaderCircle aria-hidden="true" className="size-3.5 animate-spin" />}
          {state === "done" && (
            <CircleCheck aria-hidden="true" className="size-3.5 text-emerald-600 dark:text-emerald-400" />
          )}
          {state === "error" && <CircleAlert aria-hidden="true" className="size-3.5 text-danger" />}
          {state === "running" ? runningLabel(tool) : state === "error" ? "Failed" : "Done"}
        </span>
      </summary>
      <div className="space-y-2 border-t border-border px-3 py-2.5">
        <section>
          <h4 className="mb-1 text-xs font-medium text-muted-foreground">Arguments</h4>
          <pre className="max-h-60 overflow-auto rounded-lg bg-muted p-2 font-mono text-xs whitespace-pre-wrap">
            {tool.arguments === "" ? "(none)" : pretty(tool.arguments)}
          </pre>
        </section>
        {!running && (
          <section>
            <h4 className={`mb-1 text-xs font-medium ${tool.isError ? "text-danger" : "text-muted-foreground"}`}>
              {tool.isError ? "Error" : "Result"}
            </h4>
            <pre className="max-h-72 overflow-auto rounded-lg bg-muted p-2 font-mono text-xs whitespace-pre-wrap">
              {pretty(tool.result ?? "")}
            </pre>
          </section>
        )}
        {tool.structured !== undefined && (
          <section data-testid="tool-structured">
            <h4 className="mb-1 text-xs font-medium text-muted-foreground">Structured result</h4>
            <pre className="max-h-72 overflow-auto rounded-lg bg-muted p-2 font-mono text-xs whitespace-pre-wrap">
              {JSON.stringify(tool.structured, null, 2)}
            </pre>
          </section>
        )}
        {tool.images !== undefined && tool.images.length > 0 && (
          <section>
            <h4 className="mb-1 text-xs font-medium text-muted-foreground">Images</h4>
            <div className="flex flex-wrap gap-2">
              {tool.images.map((image, index) => (
                <img
                  // Images of one result never change order.
                  // biome-ignore lint/suspicious/noArrayIndexKey: see above
                  key={index}
                  data-testid="tool-image"
                  alt={`Result ${index + 1} of ${tool.name}`}
                  src={`data:${image.mime_type};base64,${image.data}`}
                  className="max-h-60 rounded-lg border border-border"
                />
              ))}
            </div>
          </section>
        )}
        {tool.resources !== undefined && tool.resources.length > 0 && (
          <section>
            <h4 className="mb-1 text-xs font-medium text-muted-foreground">Resources</h4>
            <ul className="space-y-0.5 font-mono text-xs" data-testid="tool-resources">
              {tool.resources.map((resource) => (
                <li key={resource.uri}>
                  {resource.title ?? resource.name ?? resource.uri}
                  {resource.title !== undefined || resource.name !== undefined ? ` — ${resource.uri}` : ""}
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </details>
  );
}
