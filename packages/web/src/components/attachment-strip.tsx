import { FileText, X } from "lucide-react";
import type { KeptAttachment } from "../chat/attachments.ts";

interface AttachmentStripProps {
  items: readonly { id: string; kept: KeptAttachment }[];
  /** Absent: the strip only shows (a sent message). */
  onRemove?(id: string): void;
}

/** Thumbnails of images and chips of files, removable while composing. */
export function AttachmentStrip({ items, onRemove }: AttachmentStripProps) {
  return (
    <ul aria-label="Attachments" className="flex flex-wrap gap-2 px-1 py-1">
      {items.map(({ id, kept }) => (
        <li key={id} data-testid="attachment" className="relative">
          {kept.type === "image" && kept.url !== "" ? (
            <img src={kept.url} alt={kept.name} className="size-16 rounded-lg border border-border object-cover" />
          ) : (
            <span
              title={
                kept.type === "file" && kept.data === undefined ? `${kept.name} (not kept in this browser)` : kept.name
              }
              className="inline-flex h-16 max-w-48 items-center gap-1.5 rounded-lg border border-border bg-muted px-2.5 text-sm"
            >
              <FileText aria-hidden="true" className="size-4 shrink-0" />
              <span className="truncate">{kept.name}</span>
            </span>
          )}
          {onRemove !== undefined && (
            <button
              type="button"
              aria-label={`Remove ${kept.name}`}
              onClick={() => onRemove(id)}
              className="absolute -top-1.5 -right-1.5 inline-flex size-5 items-center justify-center rounded-full bg-foreground text-background hover:opacity-85"
            >
              <X aria-hidden="true" className="size-3" />
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
