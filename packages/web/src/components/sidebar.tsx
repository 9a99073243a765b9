import { MessageSquare, SquarePen, Trash2 } from "lucide-react";
import type { Conversation } from "../chat/conversation.ts";
import { formatWhen } from "../lib/format.ts";

interface SidebarProps {
  conversations: Conversation[];
  activeId: string | undefined;
  streaming: ReadonlySet<string>;
  onSelect(id: string): void;
  onNew(): void;
  onDelete(id: string): void;
}

/** New chat, and the past conversations, newest first. */
export function Sidebar({ conversations, activeId, streaming, onSelect, onNew, onDelete }: SidebarProps) {
  const sorted = [...conversations].sort((a, b) => b.updatedAt - a.updatedAt);
  return (
    <nav aria-label="Conversations" className="flex h-full flex-col gap-3 p-3">
      <button
        type="button"
        onClick={onNew}
        className="flex items-center gap-2 rounded-xl border border-border bg-background px-3 py-2.5 text-sm font-medium shadow-xs hover:bg-muted"
      >
        <SquarePen aria-hidden="true" className="size-4" />
        New chat
      </button>
      <h2 className="px-2 pt-1 text-xs font-medium tracking-wide text-muted-foreground uppercase">History</h2>
      {sorted.length === 0 ? (
        <p className="px-2 text-sm text-muted-foreground">Your conversations will appear here.</p>
      ) : (
        <ul className="-mx-1 flex-1 space-y-0.5 overflow-y-auto px-1">
          {sorted.map((conversation) => {
            const active = conversation.id === activeId;
            return (
              <li key={conversation.id} className="group relative">
                <button
                  type="button"
                  onClick={() => onSelect(conversation.id)}
                  aria-current={active ? "page" : undefined}
                  className={`flex w-full flex-col items-start rounded-lg py-2 pr-9 pl-3 text-left text-sm ${
                    active ? "bg-muted font-medium" : "hover:bg-muted/70"
                  }`}
                >
                  <span className="flex w-full items-center gap-2">
                    <MessageSquare aria-hidden="true" className="size-3.5 shrink-0 text-muted-foreground" />
                    <span className="truncate">{conversation.title}</span>
                  </span>
                  <span className="pl-5.5 text-xs font-normal text-muted-foreground">
                    {streaming.has(conversation.id) ? "Answering…" : formatWhen(conversation.updatedAt)}
                  </span>
                </button>
                <button
                  type="button"
                  onClick={() => onDelete(conversation.id)}
                  aria-label={`Delete “${conversation.title}”`}
                  title="Delete"
                  className="absolute top-2 right-1.5 rounded-md p-1.5 text-muted-foreground opacity-0 group-focus-within:opacity-100 group-hover:opacity-100 hover:bg-background hover:text-danger focus:opacity-100"
                >
                  <Trash2 aria-hidden="true" className="size-3.5" />
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}
