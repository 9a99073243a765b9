import type { ChatEvent, ObjectEvent, ToolImage, ToolResourceLink, Usage } from "@brook/client";
import type { KeptAttachment } from "./attachments.ts";

export type Timing = Extract<ChatEvent, { type: "complete" }>["timing"];

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
  /** Absent while the tool runs. */
  result?: string;
  isError?: boolean;
  /** The run waits for a person to approve this call (its `tool_approval` event). */
  approval?: {
    id: string;
    server?: string | undefined;
    /** What was decided: absent while it waits; `sent` once this page answered, before the result says. */
    decision?: "sent" | "approved" | "denied" | "timed_out";
  };
  /** Questions the tool's MCP server asked during the call (its `input_request` events), in order. */
  inputs?: ToolInput[];
  /** The tool's structured result, resource links and images, when it gave any. */
  structured?: Record<string, unknown>;
  resources?: ToolResourceLink[];
  images?: ToolImage[];
  /** The last progress the tool reported while it ran. */
  progress?: { progress: number; total?: number; message?: string };
}

/** An MCP server's question during a tool call, and what became of it. */
export interface ToolInput {
  id: string;
  server: string;
  message: string;
  schema: Record<string, unknown>;
  /** Absent while it waits; what this page sent; `closed` once the call ended without this page answering. */
  answer?: "accept" | "decline" | "cancel" | "closed";
}

export type MessageStatus = "streaming" | "done" | "stopped" | "error";

export interface Message {
  id: string;
  role: "user" | "assistant";
  content: string;
  createdAt: number;
  /** User messages: the images and files sent with it, as the conversation keeps them. */
  attachments?: KeptAttachment[];
  /** Assistant messages only. */
  status?: MessageStatus;
  model?: string;
  usage?: Usage;
  timing?: Timing;
  tools?: ToolCall[];
  /** The model's thinking (reasoning models): shown apart from the answer, never sent back in `history`. */
  reasoning?: string;
  /** When the thinking began (epoch ms), for the time shown while it goes on. */
  reasoningStartedAt?: number;
  /** How long the model thought: measured here when the answer began, then the server's figure. */
  reasoningMs?: number;
  /**
   * A typed answer (a schema was asked for): parsed so far while it streams, then the checked
   * object. `content` keeps its raw JSON text.
   */
  object?: ObjectEvent["partial"];
  error?: { message: string; code: string; retryable: boolean };
  /**
   * While it streams: its run and the last event applied to it, so that a reloaded page reads on
   * from there (the run waits for its reader a while).
   */
  run?: { id: string; lastEventId?: string };
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: Message[];
}

export function newId(): string {
  return crypto.randomUUID();
}

export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || "New chat";
}
