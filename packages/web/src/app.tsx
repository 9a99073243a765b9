import type { Health } from "@brook/client";
import { BarChart3, BookOpen, Menu, Settings as SettingsIcon, SquarePen, Waves, X } from "lucide-react";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useSettings } from "./chat/settings.ts";
import { useChatRunner } from "./chat/use-chat-runner.ts";
import { useConversations } from "./chat/use-conversations.ts";
import { ApiKeyDialog } from "./components/api-key-dialog.tsx";
import { DemoBanner, OfflineBanner } from "./components/banner.tsx";
import { Composer, type ComposerHandle } from "./components/composer.tsx";
import { McpServersNotice } from "./components/mcp-servers-notice.tsx";
import { MessageView } from "./components/message-view.tsx";
import { SettingsDialog } from "./components/settings-dialog.tsx";
import { Sidebar } from "./components/sidebar.tsx";
import { StatsDialog } from "./components/stats-dialog.tsx";
import { brook, describeError, isUnauthorized, saveApiKey, storedApiKey } from "./lib/brook.ts";
import { recordStats } from "./stats/stats-history.ts";

const suggestions = [
  "Explain Server-Sent Events in three sentences",
  "Write a TypeScript function that debounces another function",
  "Give me a packing list for a weekend hike, as a table",
];

type Dialog = "settings" | "stats" | undefined;

const DEMO_NOTICE = "brook.demo-notice";

/** The MCP server named by the OAuth callback's redirect (`?mcp_connected=`), taken off the address. */
function connectedServerOnce(): string | undefined {
  const url = new URL(window.location.href);
  const name = url.searchParams.get("mcp_connected") ?? undefined;
  if (name === undefined) return undefined;
  url.searchParams.delete("mcp_connected");
  window.history.replaceState(window.history.state, "", url);
  return name;
}

/** How often the page samples the service's totals for the statistics' charts (while it is visible). */
const SAMPLE_STATS_MS = 30_000;

export function App() {
  const conversations = useConversations();
  const [settings, setSettings] = useSettings();
  const [health, setHealth] = useState<Health>();
  const [healthError, setHealthError] = useState<string>();
  const [dialog, setDialog] = useState<Dialog>();
  const [keyPrompt, setKeyPrompt] = useState<{ rejected: boolean; retry?: () => void }>();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [demoNoticeHidden, setDemoNoticeHidden] = useState(() => sessionStorage.getItem(DEMO_NOTICE) === "hidden");
  const composer = useRef<ComposerHandle>(null);
  const drawer = useRef<HTMLElement>(null);
  // The message list, and whether it follows the answer as it grows (unless the reader scrolled up).
  const scroller = useRef<HTMLElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    // Keyboard users land in the drawer they opened.
    if (drawerOpen) drawer.current?.querySelector("button")?.focus();
  }, [drawerOpen]);

  const askForKey = useCallback((retry?: () => void) => {
    setKeyPrompt({ rejected: storedApiKey() !== undefined, ...(retry === undefined ? {} : { retry }) });
  }, []);

  // A key entered before any call needed it is checked at once, so a wrong one is refused while the user is here.
  const checkKey = useCallback(async () => {
    try {
      await brook.trpc.stats.get.query();
    } catch (error) {
      if (isUnauthorized(error)) askForKey();
    }
  }, [askForKey]);

  const runner = useChatRunner({ conversations, settings, onUnauthorized: askForKey });

  const loadHealth = useCallback(async () => {
    try {
      const current = await brook.trpc.health.query();
      setHealth(current);
      setHealthError(undefined);
      // Read defensively: older servers do not send it.
      const authRequired = (current as Health & { auth_required?: unknown }).auth_required === true;
      if (authRequired && storedApiKey() === undefined) askForKey();
    } catch (error) {
      if (isUnauthorized(error)) askForKey(() => void loadHealth());
      else setHealthError(describeError(error).message);
    }
  }, [askForKey]);

  // Back from connecting an MCP server (its OAuth callback): health again until its tools are up.
  const [justConnected, setJustConnected] = useState(() => connectedServerOnce());
  const connectedServer = health?.mcp_servers.find((server) => server.name === justConnected);
  useEffect(() => {
    if (justConnected === undefined || connectedServer?.status === "connected") return;
    const timer = setInterval(() => void loadHealth(), 500);
    return () => clearInterval(timer);
  }, [justConnected, connectedServer?.status, loadHealth]);

  useEffect(() => {
    void loadHealth();
    // Ready to type, except on touch screens, where focus would pop up the keyboard over the page.
    if (window.matchMedia("(pointer: fine)").matches) composer.current?.focus();
  }, [loadHealth]);

  // Brook keeps totals, not their history: the page samples them while it is open, for the charts
  // of the statistics (at once, now and then, and when an answer ends). Failures are for later samples.
  const online = health !== undefined;
  const sampleStats = useCallback(() => {
    if ((health as { auth_required?: unknown } | undefined)?.auth_required === true && storedApiKey() === undefined)
      return;
    brook.trpc.stats.get.query().then(
      (stats) => recordStats(stats),
      () => {},
    );
  }, [health]);
  useEffect(() => {
    if (!online) return;
    sampleStats();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") sampleStats();
    }, SAMPLE_STATS_MS);
    return () => clearInterval(timer);
  }, [online, sampleStats]);
  const answering = runner.streaming.size;
  const wasAnswering = useRef(answering);
  useEffect(() => {
    if (answering < wasAnswering.current) sampleStats();
    wasAnswering.current = answering;
  }, [answering, sampleStats]);

  const active = conversations.active;
  const streaming = active !== undefined && runner.streaming.has(active.id);

  // Stable, so that answers which did not change are not rendered again while another one streams.
  const activeId = active?.id;
  const { rerun: rerunAnswer } = runner;
  const rerun = useCallback(
    (messageId: string) => {
      if (activeId === undefined) return;
      stick.current = true;
      rerunAnswer(activeId, messageId);
    },
    [activeId, rerunAnswer],
  );

  useEffect(() => {
    document.title = active === undefined ? "Brook" : `${active.title} · Brook`;
  }, [active]);

  const newChat = useCallback(() => {
    conversations.select(undefined);
    setDrawerOpen(false);
    composer.current?.focus();
  }, [conversations.select]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
        event.preventDefault();
        newChat();
      }
      if (event.key === "Escape") setDrawerOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [newChat]);

  const lastMessage = active?.messages.at(-1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the visible answer changes
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element !== null && stick.current) element.scrollTop = element.scrollHeight;
  }, [active?.id, active?.messages.length, lastMessage?.content, lastMessage?.status, lastMessage?.tools]);

  const sidebar = (
    <Sidebar
      conversations={conversations.list}
      activeId={conversations.activeId}
      streaming={runner.streaming}
      onSelect={(id) => {
        conversations.select(id);
        setDrawerOpen(false);
        stick.current = true;
      }}
      onNew={newChat}
      onDelete={(id) => {
        runner.discard(id);
        conversations.remove(id);
      }}
    />
  );

  return (
    <div className="flex h-full">
      <aside className="hidden w-72 shrink-0 border-r border-border bg-sidebar md:block">{sidebar}</aside>
      {drawerOpen && (
        <div className="fixed inset-0 z-40 md:hidden">
          <button
            type="button"
            aria-label="Close conversations"
            className="absolute inset-0 bg-black/40"
            onClick={() => setDrawerOpen(false)}
          />
          <aside
            ref={drawer}
            className="absolute inset-y-0 left-0 w-72 max-w-[85%] border-r border-border bg-sidebar shadow-xl"
          >
            {sidebar}
          </aside>
        </div>
      )}

      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-14 shrink-0 items-center gap-2 border-b border-border px-3 sm:px-4">
          <button
            type="button"
            aria-label="Conversations"
            onClick={() => setDrawerOpen(true)}
            className="rounded-lg p-2 text-muted-foreground hover:bg-muted hover:text-foreground md:hidden"
          >
            {drawerOpen ? <X className="size-5" /> : <Menu className="size-5" />}
          </button>
          <div className="flex min-w-0 items-center gap-2">
            <span className="grid size-7 place-items-center rounded-lg bg-sky-600 text-white">
              <Waves aria-hidden="true" className="size-4" />
            </span>
            <h1 className="font-semibold tracking-tight">Brook</h1>
            {health !== undefined && (
              <span
                title="Model"
                className="hidden truncate rounded-md border border-border px-1.5 py-0.5 font-mono text-xs text-muted-foreground sm:inline"
              >
                {settings.model.trim() || health.model}
              </span>
            )}
          </div>
          <div className="ml-auto flex items-center gap-1">
            <HeaderButton label="New chat" onClick={newChat} className="md:hidden">
              <SquarePen className="size-4.5" />
            </HeaderButton>
            <HeaderButton label="Statistics" onClick={() => setDialog("stats")}>
              <BarChart3 className="size-4.5" />
            </HeaderButton>
            {/* Brook's API, to read and try (served by Brook, in a tab of its own). */}
            <a
              href="/docs"
              target="_blank"
              rel="noopener"
              aria-label="API reference"
              title="API reference"
              className="rounded-lg p-2 text-muted-foreground hover:bg-muted hover:text-foreground"
            >
              <BookOpen aria-hidden="true" className="size-4.5" />
            </a>
            <HeaderButton label="Settings" onClick={() => setDialog("settings")}>
              <SettingsIcon className="size-4.5" />
            </HeaderButton>
          </div>
        </header>

        {health?.mode === "demo" && !demoNoticeHidden && (
          <DemoBanner
            onDismiss={() => {
              sessionStorage.setItem(DEMO_NOTICE, "hidden");
              setDemoNoticeHidden(true);
            }}
          />
        )}
        {healthError !== undefined && <OfflineBanner message={healthError} onRetry={() => void loadHealth()} />}
        {health !== undefined && (
          <McpServersNotice
            servers={health.mcp_servers}
            connected={justConnected}
            onDismissConnected={() => setJustConnected(undefined)}
            onUnauthorized={askForKey}
          />
        )}

        <main
          ref={scroller}
          onScroll={(event) => {
            const element = event.currentTarget;
            stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
          }}
          className="flex-1 overflow-y-auto [overflow-anchor:none]"
        >
          {active === undefined || active.messages.length === 0 ? (
            <EmptyState onPick={(text) => runner.send(text)} disabled={streaming} />
          ) : (
            <div className="mx-auto w-full max-w-3xl space-y-7 px-4 py-6 sm:px-6">
              {active.messages.map((message, index) => (
                <MessageView
                  key={message.id}
                  message={message}
                  isLast={index === active.messages.length - 1}
                  busy={streaming}
                  onRerun={rerun}
                />
              ))}
            </div>
          )}
        </main>

        <div className="mx-auto w-full max-w-3xl px-3 pb-3 sm:px-6 sm:pb-5">
          <Composer
            ref={composer}
            streaming={streaming}
            onSend={(text, attachments) => {
              stick.current = true;
              runner.send(text, attachments);
            }}
            onStop={() => active !== undefined && runner.stop(active.id)}
          />
          <p className="mt-2 hidden text-center text-xs text-muted-foreground sm:block">
            Enter to send · Shift+Enter for a new line{streaming ? " · Esc to stop" : ""}
          </p>
        </div>
      </div>

      <SettingsDialog
        open={dialog === "settings"}
        settings={settings}
        defaultModel={health?.model}
        models={health?.models}
        onSave={setSettings}
        onClose={() => setDialog(undefined)}
      />
      <StatsDialog open={dialog === "stats"} onClose={() => setDialog(undefined)} onUnauthorized={askForKey} />
      <ApiKeyDialog
        open={keyPrompt !== undefined}
        rejected={keyPrompt?.rejected ?? false}
        onClose={() => setKeyPrompt(undefined)}
        onSave={(key) => {
          saveApiKey(key);
          const retry = keyPrompt?.retry ?? (() => void checkKey());
          setKeyPrompt(undefined);
          retry();
        }}
      />
    </div>
  );
}

function HeaderButton({
  label,
  onClick,
  className = "",
  children,
}: {
  label: string;
  onClick(): void;
  className?: string;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      onClick={onClick}
      className={`rounded-lg p-2 text-muted-foreground hover:bg-muted hover:text-foreground ${className}`}
    >
      {children}
    </button>
  );
}

function EmptyState({ onPick, disabled }: { onPick(text: string): void; disabled: boolean }) {
  return (
    <div className="mx-auto flex h-full max-w-2xl flex-col items-center justify-center gap-6 px-4 py-10 text-center">
      <div className="grid size-12 place-items-center rounded-2xl bg-sky-600 text-white shadow-lg shadow-sky-600/20">
        <Waves aria-hidden="true" className="size-6" />
      </div>
      <div className="space-y-1.5">
        <h2 className="text-2xl font-semibold tracking-tight">What can I help with?</h2>
        <p className="text-sm text-muted-foreground">Answers stream in as they are written. Stop them any time.</p>
      </div>
      <div className="grid w-full gap-2 sm:grid-cols-3">
        {suggestions.map((text) => (
          <button
            key={text}
            type="button"
            disabled={disabled}
            onClick={() => onPick(text)}
            className="rounded-xl border border-border px-3.5 py-3 text-left text-sm text-muted-foreground transition-colors hover:bg-muted hover:text-foreground"
          >
            {text}
          </button>
        ))}
      </div>
    </div>
  );
}
