import { type ChatEvent, ErrorEvent, readChatEvents, Stats } from "@brook/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestBrook, streamEvents, until } from "./support/brook-harness.js";
import { expectOneTerminal, untilConnected } from "./support/mcp-harness.js";
import { type McpTestServer, startMcpTestServer } from "./support/mcp-test-server.js";
import { type MisbehavingUpstream, startMisbehavingUpstream } from "./support/misbehaving-upstream.js";

let upstream: MisbehavingUpstream;

beforeAll(async () => {
  upstream = await startMisbehavingUpstream();
});

afterAll(async () => {
  await upstream?.close();
});

/**
 * Asks `/health` one request after another until `ended` settles: how many answers came back
 * before it did. Brook runs in this process: tokens counted on its event loop would hold every
 * answer back until the counting ended, so two or more in a row mean it went on answering.
 */
async function healthAnswersUntil(url: string, ended: Promise<unknown>): Promise<number> {
  let settled = false;
  const settle = () => {
    settled = true;
  };
  void ended.then(settle, settle);
  let answered = 0;
  while (!settled) {
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    if (!settled) answered += 1;
  }
  await ended;
  return answered;
}

/** A run streamed from POST /chat/stream, read one event at a time. */
async function startRun(url: string, message: string) {
  const response = await fetch(`${url}/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  expect(response.status).toBe(200);
  const received = readChatEvents(response.body as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  const events: ChatEvent[] = [];
  /** Reads the next event into `events`; false at the end. */
  const next = async () => {
    const { value, done } = await received.next();
    if (!done) events.push(value.event);
    return !done;
  };
  const rest = async () => {
    while (await next());
  };
  return { events, next, rest };
}

async function stats(url: string): Promise<Stats> {
  return Stats.parse(await (await fetch(`${url}/stats`)).json());
}

function terminalOf(events: readonly ChatEvent[]) {
  expectOneTerminal(events);
  return events.at(-1);
}

describe("a model server that sends no usage: the estimate never freezes Brook", () => {
  let brook: Awaited<ReturnType<typeof startTestBrook>>;
  let url: string;

  beforeAll(async () => {
    brook = await startTestBrook(upstream.url);
    url = await brook.listen(0);
  });

  afterAll(async () => {
    await brook?.close();
  });

  it("answers /health while a 100,000-character one-word run is cancelled, and bills an estimate", async () => {
    // A model that started and went quiet: cancelled before it sent usage.
    const message = `[stall] ${"a".repeat(100_000 - 8)}`;
    const client = new AbortController();
    const response = await fetch(`${url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message }),
      signal: client.signal,
    });
    expect(response.status).toBe(200);
    for await (const { event } of readChatEvents(response.body as ReadableStream<Uint8Array>)) {
      if (event.type === "content") break;
    }
    // The client leaves: the run is cancelled, its prompt counted (the model server never sent usage).
    client.abort();
    const ended = until(async () => (await stats(url)).requests.cancelled === 1, 15_000);
    expect(await healthAnswersUntil(url, ended)).toBeGreaterThanOrEqual(2);
    const { tokens, total_cost } = await stats(url);
    // o200k reads a run of "a" eight characters a token: the prompt is counted, not taken for nothing.
    expect(tokens.input).toBeGreaterThanOrEqual(12_500);
    expect(tokens.output).toBeGreaterThan(0);
    expect(total_cost).toBeGreaterThan(0);
  });

  it("answers /health while a 256 KB one-word answer without usage is counted", async () => {
    const run = await startRun(url, "[one-word:262144]");
    let chars = 0;
    while (chars < 262_144 && (await run.next())) {
      const event = run.events.at(-1);
      if (event?.type === "content") chars += event.chunk.length;
    }
    // The whole answer is here: what is left is counting its tokens, then the terminal event with them.
    expect(await healthAnswersUntil(url, run.rest())).toBeGreaterThanOrEqual(2);
    const terminal = terminalOf(run.events);
    expect(terminal).toMatchObject({ type: "complete", usage: { estimated: true } });
    expect(terminal?.type === "complete" && terminal.full_content.length).toBe(262_144);
    // Counted exactly ("w" is two characters a token) or, past the time budget, four characters a token.
    expect(terminal?.type === "complete" && terminal.usage.output_tokens).toBeGreaterThanOrEqual(262_144 / 4);
  });
});

describe("model server edge cases", () => {
  let brook: Awaited<ReturnType<typeof startTestBrook>>;
  let url: string;

  beforeAll(async () => {
    // Retries allowed: a redirect must not be taken for a failure worth retrying.
    brook = await startTestBrook(upstream.url, { OPENAI_MAX_RETRIES: "2" });
    url = await brook.listen(0);
  });

  afterAll(async () => {
    await brook?.close();
  });

  it("ends a tool call without id and name as an error, never as a complete answer", async () => {
    const events = await streamEvents(url, { message: "call something [tool-call-no-id]" });
    const terminal = ErrorEvent.parse(terminalOf(events));
    expect(terminal).toMatchObject({ code: "upstream_invalid_answer", retryable: false });
    expect(terminal.error).toMatch(/tool call without a name/);
    expect(terminal.usage.input_tokens).toBeGreaterThan(0);
  });

  it("relays one legitimate 10 MB stream event", async () => {
    const events = await streamEvents(url, { message: "[huge-chunk:10485760]" });
    const terminal = terminalOf(events);
    expect(terminal?.type).toBe("complete");
    expect(terminal?.type === "complete" && terminal.full_content.length).toBeGreaterThan(10_000_000);
  });

  it("follows a 307 redirect within the model server's origin", async () => {
    const events = await streamEvents(url, { message: "[redirect]" });
    expect(terminalOf(events)).toMatchObject({
      type: "complete",
      full_content: "Hello from the misbehaving upstream.",
      usage: { estimated: false },
    });
  });
});

describe("MODEL_MAX_EVENT_BYTES", () => {
  it("ends a run whose stream event is larger with a message that names the limit", async () => {
    const brook = await startTestBrook(upstream.url, { MODEL_MAX_EVENT_BYTES: "1048576" });
    try {
      const url = await brook.listen(0);
      const events = await streamEvents(url, { message: "[huge-chunk:2097152]" });
      const terminal = ErrorEvent.parse(terminalOf(events));
      expect(terminal.code).toBe("upstream_invalid_answer");
      expect(terminal.error).toMatch(/larger than 1048576 bytes.*MODEL_MAX_EVENT_BYTES/);
      expect(terminal.error).not.toMatch(/malformed/);
    } finally {
      await brook.close();
    }
  });
});

describe("MAX_TOOL_CALLS_PER_STEP", () => {
  let mcp: McpTestServer;
  let brook: Awaited<ReturnType<typeof startTestBrook>>;
  let url: string;

  beforeAll(async () => {
    mcp = await startMcpTestServer();
    brook = await startTestBrook(upstream.url, {
      MCP_URL: mcp.url,
      MAX_TOOL_CALLS_PER_STEP: "5",
      TOOL_CONCURRENCY: "2",
    });
    url = await brook.listen(0);
    await untilConnected(url);
  });

  afterAll(async () => {
    await brook?.close();
    await mcp?.close();
  });

  it("runs a turn of as many tool calls as allowed", async () => {
    const events = await streamEvents(url, { message: "[many-tools:5]" });
    expect(events.filter((event) => event.type === "tool_result")).toHaveLength(5);
    expect(terminalOf(events)).toMatchObject({ type: "complete", full_content: "Ran 5 tools." });
  });

  it("ends a turn of more tool calls with a clear error, and runs none of them", async () => {
    const before = mcp.log.calls.length;
    const events = await streamEvents(url, { message: "[many-tools:1000]" });
    const terminal = ErrorEvent.parse(terminalOf(events));
    expect(terminal.code).toBe("upstream_invalid_answer");
    expect(terminal.error).toMatch(/1000 tool calls.*MAX_TOOL_CALLS_PER_STEP/);
    expect(events.some((event) => event.type === "tool_call")).toBe(false);
    expect(mcp.log.calls.length).toBe(before);
  });
});
