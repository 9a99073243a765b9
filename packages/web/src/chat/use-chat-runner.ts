import type { ChatRequest } from "@brook/client";
import { useCallback, useRef, useState } from "react";
import { brook, describeError, isUnauthorized } from "../lib/brook.ts";
import { applyEvent, endThinking } from "./apply-event.ts";
import { type Conversation, type Message, newId, titleFrom } from "./conversation.ts";
import type { Settings } from "./settings.ts";
import type { Conversations } from "./use-conversations.ts";

/** Text arrives in many small chunks; the page repaints with them at most this often. */
const FLUSH_MS = 24;

export interface ChatRunner {
  /** Conversations with a reply streaming now. */
  streaming: ReadonlySet<string>;
  send(text: string): void;
  /** Runs an assistant message again (regenerate, or retry after an error). */
  rerun(conversationId: string, assistantId: string): void;
  stop(conversationId: string): void;
}

interface Options {
  conversations: Conversations;
  settings: Settings;
  /** Brook wants an API key: ask for one, then call `retry`. */
  onUnauthorized(retry: () => void): void;
}

export function useChatRunner({ conversations, settings, onUnauthorized }: Options): ChatRunner {
  const controllers = useRef(new Map<string, AbortController>());
  const [streaming, setStreaming] = useState<ReadonlySet<string>>(new Set());
  const options = useRef({ conversations, settings, onUnauthorized });
  options.current = { conversations, settings, onUnauthorized };
  // `run` retries through `rerun`, which is defined after it.
  const rerunLater = useRef<(conversationId: string, assistantId: string) => void>(() => {});

  const markStreaming = useCallback((conversationId: string, on: boolean) => {
    setStreaming((current) => {
      const next = new Set(current);
      if (on) next.add(conversationId);
      else next.delete(conversationId);
      return next;
    });
  }, []);

  const run = useCallback(
    async (conversationId: string, prior: Message[], message: string, assistantId: string) => {
      const { conversations, settings } = options.current;
      controllers.current.get(conversationId)?.abort();
      const controller = new AbortController();
      controllers.current.set(conversationId, controller);
      markStreaming(conversationId, true);
      const patch = (change: (message: Message) => Message) =>
        conversations.updateMessage(conversationId, assistantId, change);

      // Text of one kind (the answer, or the model's thinking) waiting for the next repaint.
      let pending = "";
      let pendingType: "content" | "reasoning" = "content";
      let timer: ReturnType<typeof setTimeout> | undefined;
      const flush = () => {
        clearTimeout(timer);
        timer = undefined;
        if (pending === "") return;
        const batched = { type: pendingType, chunk: pending } as const;
        pending = "";
        patch((current) => applyEvent(current, batched));
      };

      const request: ChatRequest = {
        message,
        history: prior
          .filter((turn) => turn.content.trim() !== "")
          .map((turn) => ({ role: turn.role, content: turn.content })),
        ...(settings.systemPrompt.trim() === "" ? {} : { system_prompt: settings.systemPrompt }),
        ...(settings.model.trim() === "" ? {} : { model: settings.model.trim() }),
        ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
      };
      try {
        for await (const event of brook.streamChat(request, { signal: controller.signal })) {
          if (event.type === "content" || event.type === "reasoning") {
            if (event.type !== pendingType) flush();
            pendingType = event.type;
            pending += event.chunk;
            timer ??= setTimeout(flush, FLUSH_MS);
            continue;
          }
          flush();
          patch((current) => applyEvent(current, event));
        }
      } catch (error) {
        flush();
        if (controller.signal.aborted) {
          patch((current) => ({ ...current, status: "stopped" }));
        } else if (isUnauthorized(error)) {
          patch((current) => ({
            ...current,
            status: "error",
            error: { message: "Brook needs an API key.", code: "unauthorized", retryable: true },
          }));
          options.current.onUnauthorized(() => rerunLater.current(conversationId, assistantId));
        } else {
          patch((current) => ({ ...current, status: "error", error: describeError(error) }));
        }
      } finally {
        flush();
        patch((current) => endThinking(current));
        if (controllers.current.get(conversationId) === controller) {
          controllers.current.delete(conversationId);
          markStreaming(conversationId, false);
        }
      }
    },
    [markStreaming],
  );

  const rerun = useCallback(
    (conversationId: string, assistantId: string) => {
      const conversation = options.current.conversations.get(conversationId);
      const index = conversation?.messages.findIndex((message) => message.id === assistantId) ?? -1;
      const question = conversation?.messages[index - 1];
      if (conversation === undefined || question?.role !== "user") return;
      // Everything after the rerun answer belonged to the old one.
      options.current.conversations.update(conversationId, (current) => ({
        ...current,
        updatedAt: Date.now(),
        messages: [
          ...current.messages.slice(0, index),
          { id: assistantId, role: "assistant", content: "", createdAt: Date.now(), status: "streaming" },
        ],
      }));
      void run(conversationId, conversation.messages.slice(0, index - 1), question.content, assistantId);
    },
    [run],
  );

  const send = useCallback(
    (text: string) => {
      const { conversations } = options.current;
      const now = Date.now();
      const question: Message = { id: newId(), role: "user", content: text, createdAt: now };
      const answer: Message = { id: newId(), role: "assistant", content: "", createdAt: now, status: "streaming" };
      let conversation: Conversation | undefined = conversations.active;
      if (conversation === undefined) {
        conversation = { id: newId(), title: titleFrom(text), createdAt: now, updatedAt: now, messages: [] };
        conversations.create({ ...conversation, messages: [question, answer] });
      } else {
        conversations.update(conversation.id, (current) => ({
          ...current,
          title: current.messages.length === 0 ? titleFrom(text) : current.title,
          updatedAt: now,
          messages: [...current.messages, question, answer],
        }));
      }
      void run(conversation.id, conversation.messages, text, answer.id);
    },
    [run],
  );

  rerunLater.current = rerun;

  const stop = useCallback((conversationId: string) => controllers.current.get(conversationId)?.abort(), []);

  return { streaming, send, rerun, stop };
}
