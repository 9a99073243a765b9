import type { Attachment, ChatRequest, ObjectEvent } from "@brook/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { brook, describeError, isUnauthorized } from "../lib/brook.ts";
import { applyEvent, endThinking } from "./apply-event.ts";
import { keptParts, type PendingAttachment } from "./attachments.ts";
import { type Conversation, type Message, newId, titleFrom } from "./conversation.ts";
import { parseOutputSchema, type Settings } from "./settings.ts";
import type { Conversations } from "./use-conversations.ts";

/** Text arrives in many small chunks; the page repaints with them at most this often. */
const FLUSH_MS = 24;

export interface ChatRunner {
  /** Conversations with a reply streaming now. */
  streaming: ReadonlySet<string>;
  send(text: string, attachments?: readonly PendingAttachment[]): void;
  /** Runs an assistant message again (regenerate, or retry after an error). */
  rerun(conversationId: string, assistantId: string): void;
  /** Stops the reply: the run is cancelled, and its last event (with the tokens used) still shown. */
  stop(conversationId: string): void;
  /** Drops the reply at once (its conversation is going away). */
  discard(conversationId: string): void;
}

interface Options {
  conversations: Conversations;
  settings: Settings;
  /** Brook wants an API key: ask for one, then call `retry`. */
  onUnauthorized(retry: () => void): void;
}

/** A new run to start, or one already started to read on from (after a reload). */
type Source = { request: ChatRequest } | { runId: string; lastEventId: string | undefined };

interface Controls {
  /** Stop: cancel the run, read its last event. */
  stop: AbortController;
  /** Discard: stop reading at once. */
  discard: AbortController;
}

export function useChatRunner({ conversations, settings, onUnauthorized }: Options): ChatRunner {
  const controls = useRef(new Map<string, Controls>());
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
    async (conversationId: string, assistantId: string, source: Source) => {
      const { conversations } = options.current;
      controls.current.get(conversationId)?.discard.abort();
      const own: Controls = { stop: new AbortController(), discard: new AbortController() };
      controls.current.set(conversationId, own);
      markStreaming(conversationId, true);
      // A run superseded by another one for the same message (a retry) no longer touches it.
      const patch = (change: (message: Message) => Message) => {
        if (controls.current.get(conversationId) === own)
          conversations.updateMessage(conversationId, assistantId, change);
      };

      let runId = "runId" in source ? source.runId : undefined;
      // Text of one kind (the answer, or the model's thinking) not painted yet, and the id of the
      // event that brought its last piece: the stored message always holds exactly the events up
      // to its `run.lastEventId`, so a reload neither loses nor repeats a piece.
      let pending = "";
      let pendingType: "content" | "reasoning" = "content";
      let pendingId: string | undefined;
      // A typed answer's latest parse replaces the ones before it: only the last one is painted.
      let pendingObject: ObjectEvent | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const flush = () => {
        clearTimeout(timer);
        timer = undefined;
        if ((pending === "" && pendingObject === undefined) || runId === undefined) return;
        const batched = pending === "" ? undefined : ({ type: pendingType, chunk: pending } as const);
        const object = pendingObject;
        const run = { id: runId, lastEventId: pendingId };
        pending = "";
        pendingObject = undefined;
        patch((current) => {
          const text = batched === undefined ? current : applyEvent(current, batched);
          return { ...(object === undefined ? text : applyEvent(text, object)), run };
        });
      };

      try {
        const started = "request" in source;
        const id = started ? await brook.startChat(source.request, { signal: own.discard.signal }) : source.runId;
        runId = id;
        // Named before any event arrives, so that a reload from now on finds the run.
        if (started) patch((current) => ({ ...current, run: { id } }));
        const reading = brook.readRun(id, {
          signal: own.discard.signal,
          stop: own.stop.signal,
          ...(!started && source.lastEventId !== undefined ? { lastEventId: source.lastEventId } : {}),
        });
        for await (const { id: eventId, event } of reading) {
          if (event.type === "content" || event.type === "reasoning") {
            if (event.type !== pendingType) flush();
            pendingType = event.type;
            pending += event.chunk;
            pendingId = eventId;
            timer ??= setTimeout(flush, FLUSH_MS);
            continue;
          }
          if (event.type === "object") {
            pendingObject = event;
            pendingId = eventId;
            timer ??= setTimeout(flush, FLUSH_MS);
            continue;
          }
          flush();
          const ended = event.type === "complete" || event.type === "error";
          const run = { id, lastEventId: eventId };
          patch((current) => ({ ...applyEvent(current, event), run: ended ? undefined : run }));
        }
      } catch (error) {
        flush();
        if (own.discard.signal.aborted || own.stop.signal.aborted) {
          // Discarded, or stopped and the run's last event never came.
          patch((current) => ({ ...current, status: "stopped" }));
        } else if (isUnauthorized(error)) {
          patch((current) => ({
            ...current,
            status: "error",
            error: { message: "Brook needs an API key.", code: "unauthorized", retryable: true },
          }));
          options.current.onUnauthorized(() => rerunLater.current(conversationId, assistantId));
        } else {
          const failure = describeError(error);
          const gone = "runId" in source && failure.code === "not_found";
          patch((current) => ({
            ...current,
            status: "error",
            error: gone
              ? {
                  message: "This answer was interrupted, and Brook no longer has its run.",
                  code: "not_found",
                  retryable: true,
                }
              : failure,
          }));
        }
      } finally {
        flush();
        // A stream that ended without its last event must not look as if it were still coming.
        patch((current) => {
          const ended = endThinking(current);
          return ended.status === "streaming"
            ? {
                ...ended,
                status: "error",
                run: undefined,
                error: { message: "The answer ended before it was complete.", code: "incomplete", retryable: true },
              }
            : { ...ended, run: undefined };
        });
        if (controls.current.get(conversationId) === own) {
          controls.current.delete(conversationId);
          markStreaming(conversationId, false);
        }
      }
    },
    [markStreaming],
  );

  const ask = useCallback(
    (conversationId: string, prior: Message[], message: string, assistantId: string, attachments: Attachment[]) => {
      const { settings } = options.current;
      const { schema } = parseOutputSchema(settings.outputSchema);
      const request: ChatRequest = {
        message,
        history: prior
          .filter((turn) => turn.content.trim() !== "" || (turn.attachments?.length ?? 0) > 0)
          .map((turn) =>
            turn.role === "user" && (turn.attachments?.length ?? 0) > 0
              ? { role: turn.role, content: keptParts(turn.content, turn.attachments ?? []) }
              : { role: turn.role, content: turn.content },
          ),
        ...(attachments.length === 0 ? {} : { attachments }),
        ...(settings.systemPrompt.trim() === "" ? {} : { system_prompt: settings.systemPrompt }),
        ...(settings.model.trim() === "" ? {} : { model: settings.model.trim() }),
        ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
        ...(schema === undefined ? {} : { output: { schema } }),
      };
      void run(conversationId, assistantId, { request });
    },
    [run],
  );

  // Replies that were streaming when the page was left (or reloaded) are read on where they stopped.
  const resumed = useRef(false);
  useEffect(() => {
    if (resumed.current) return;
    resumed.current = true;
    for (const conversation of options.current.conversations.list) {
      for (const message of conversation.messages) {
        if (message.status !== "streaming" || message.run === undefined) continue;
        void run(conversation.id, message.id, { runId: message.run.id, lastEventId: message.run.lastEventId });
      }
    }
  }, [run]);

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
      // The kept copies go again (the originals were not kept).
      const again = (question.attachments ?? []).flatMap((item): Attachment[] => {
        if (item.type === "image") return item.url === "" ? [] : [{ type: "image", url: item.url }];
        return item.data === undefined
          ? []
          : [{ type: "file", name: item.name, media_type: item.media_type, data: item.data }];
      });
      ask(conversationId, conversation.messages.slice(0, index - 1), question.content, assistantId, again);
    },
    [ask],
  );

  const send = useCallback(
    (text: string, pending: readonly PendingAttachment[] = []) => {
      const { conversations } = options.current;
      const now = Date.now();
      const question: Message = {
        id: newId(),
        role: "user",
        content: text,
        createdAt: now,
        ...(pending.length === 0 ? {} : { attachments: pending.map((item) => item.kept) }),
      };
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
      ask(
        conversation.id,
        conversation.messages,
        text,
        answer.id,
        pending.map((item) => item.attachment),
      );
    },
    [ask],
  );

  rerunLater.current = rerun;

  const stop = useCallback((conversationId: string) => controls.current.get(conversationId)?.stop.abort(), []);
  const discard = useCallback((conversationId: string) => controls.current.get(conversationId)?.discard.abort(), []);

  return { streaming, send, rerun, stop, discard };
}
