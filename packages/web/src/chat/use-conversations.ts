import { useCallback, useEffect, useRef, useState } from "react";
import { readStored, writeStored } from "../lib/local-store.ts";
import type { Conversation, Message } from "./conversation.ts";

const CONVERSATIONS = "brook.conversations";
const ACTIVE = "brook.active-conversation";

/** Storage may hold anything (older versions, hand edits): keep what looks like a conversation. */
function isConversation(value: unknown): value is Conversation {
  const candidate = value as Partial<Conversation> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.id === "string" &&
    Array.isArray(candidate.messages) &&
    candidate.messages.every((message) => typeof message?.id === "string" && typeof message.content === "string")
  );
}

/**
 * A reply that was streaming when the page went away is read on from its run (the chat runner
 * does that); one whose run was never named cannot be: it was stopped.
 */
function restore(stored: unknown): Conversation[] {
  if (!Array.isArray(stored)) return [];
  return stored.filter(isConversation).map((conversation) => ({
    ...conversation,
    messages: conversation.messages.map((message) =>
      message.status === "streaming" && typeof message.run?.id !== "string"
        ? { ...message, status: "stopped", run: undefined }
        : message,
    ),
  }));
}

export interface Conversations {
  list: Conversation[];
  active: Conversation | undefined;
  activeId: string | undefined;
  select(id: string | undefined): void;
  create(conversation: Conversation): void;
  remove(id: string): void;
  /** Changes one conversation; `updatedAt` moves only when `touch` is set. */
  update(id: string, change: (conversation: Conversation) => Conversation): void;
  updateMessage(conversationId: string, messageId: string, change: (message: Message) => Message): void;
  /** The latest state, for callbacks that outlive a render. */
  get(id: string): Conversation | undefined;
}

/** Conversations kept in localStorage, written at most a few times a second while text streams. */
export function useConversations(): Conversations {
  const [list, setList] = useState<Conversation[]>(() => restore(readStored<unknown>(CONVERSATIONS, [])));
  const [activeId, setActiveId] = useState<string | undefined>(() => readStored(ACTIVE, undefined));
  const latest = useRef(list);
  latest.current = list;

  useEffect(() => {
    const timer = setTimeout(() => writeStored(CONVERSATIONS, list), 250);
    return () => clearTimeout(timer);
  }, [list]);
  useEffect(() => {
    // Leaving the page must not lose the last quarter second of a reply.
    const flush = () => writeStored(CONVERSATIONS, latest.current);
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, []);
  useEffect(() => writeStored(ACTIVE, activeId), [activeId]);

  const update = useCallback((id: string, change: (conversation: Conversation) => Conversation) => {
    setList((current) => current.map((conversation) => (conversation.id === id ? change(conversation) : conversation)));
  }, []);

  const updateMessage = useCallback(
    (conversationId: string, messageId: string, change: (message: Message) => Message) =>
      update(conversationId, (conversation) => ({
        ...conversation,
        messages: conversation.messages.map((message) => (message.id === messageId ? change(message) : message)),
      })),
    [update],
  );

  const active = list.find((conversation) => conversation.id === activeId);
  return {
    list,
    active,
    activeId: active?.id,
    select: setActiveId,
    create: useCallback((conversation: Conversation) => {
      setList((current) => [conversation, ...current]);
      setActiveId(conversation.id);
    }, []),
    remove: useCallback((id: string) => {
      setList((current) => current.filter((conversation) => conversation.id !== id));
      setActiveId((current) => (current === id ? undefined : current));
    }, []),
    update,
    updateMessage,
    get: useCallback((id: string) => latest.current.find((conversation) => conversation.id === id), []),
  };
}
