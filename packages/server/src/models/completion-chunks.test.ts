import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CompletionChunk, canPushChunks, completionChunks, type PushableChunks } from "./completion-chunks.js";
import { createUpstreamFetch } from "./upstream-fetch.js";

const encoder = new TextEncoder();

/** A real Response whose body arrives in the given pieces; `cancelled` tells whether the reader gave up on it. */
function responseOf(pieces: (string | Uint8Array)[]) {
  const state = { cancelled: false, pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[state.pulled++];
      if (piece === undefined) controller.close();
      else controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { headers: { "x-request-id": "req-1" } }), state };
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** A chunk's text, whether it came as text (the common shape) or parsed. */
const contentOf = (item: CompletionChunk) => (typeof item === "string" ? item : item.choices[0]?.delta?.content);

async function collect(response: Response) {
  const contents: unknown[] = [];
  for await (const batch of completionChunks(response)) {
    for (const item of batch) contents.push(contentOf(item));
  }
  return contents;
}

describe("completionChunks", () => {
  it("yields every chunk in order, whatever the network reads split (events, lines, UTF-8 characters)", async () => {
    const text = `${chunk("你好")}: a comment\n\n${chunk(" world")}\r\n${chunk("!")}data: [DONE]\n\n`;
    const bytes = encoder.encode(text);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, index) =>
      bytes.subarray(index * 7, index * 7 + 7),
    );
    const { response } = responseOf(pieces);
    expect(await collect(response)).toEqual(["你好", " world", "!"]);
  });

  it("ignores what follows [DONE] but reads the body to its end, so the connection can be reused", async () => {
    const { response, state } = responseOf([`${chunk("a")}data: [DONE]\n\n`, chunk("late"), "data: not json\n\n"]);
    expect(await collect(response)).toEqual(["a"]);
    expect(state.cancelled).toBe(false);
    expect(state.pulled).toBe(4);
  });

  it("throws a SyntaxError for a payload that is not JSON, and cancels the body", async () => {
    const { response, state } = responseOf([chunk("a"), "data: {not json\n\n", chunk("b")]);
    await expect(collect(response)).rejects.toBeInstanceOf(SyntaxError);
    expect(state.cancelled).toBe(true);
  });

  it("yields the chunks of a read before a failure in the same read, then throws", async () => {
    const { response } = responseOf([`${chunk("a")}${chunk("b")}data: {not json\n\n${chunk("c")}`]);
    const contents: unknown[] = [];
    const error = await (async () => {
      for await (const batch of completionChunks(response)) contents.push(...batch.map(contentOf));
    })().catch((caught: unknown) => caught);
    expect(contents).toEqual(["a", "b"]);
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it("yields the chunks of one network read as one batch", async () => {
    const { response } = responseOf([`${chunk("a")}${chunk("b")}`, `${chunk("c")}data: [DONE]\n\n`]);
    const batches: unknown[][] = [];
    for await (const batch of completionChunks(response)) batches.push(batch.map(contentOf));
    expect(batches).toEqual([["a", "b"], ["c"]]);
  });

  it("throws the SDK's APIError for an error object inside the stream", async () => {
    const { response } = responseOf([chunk("a"), `data: {"error":{"message":"overloaded","type":"server_error"}}\n\n`]);
    const error = await collect(response).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBeUndefined();
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: "overloaded" });
  });

  it("drops an event cut before its blank line, as the SDK does", async () => {
    const { response } = responseOf([chunk("a"), 'data: {"choices":[{"index":0,"delta":{"content":"cut"}}]}']);
    expect(await collect(response)).toEqual(["a"]);
  });

  it("cancels the body when the reader stops early", async () => {
    const { response, state } = responseOf([chunk("a"), chunk("b"), chunk("c")]);
    for await (const _ of completionChunks(response)) break;
    expect(state.cancelled).toBe(true);
  });
});

describe("completionChunks on the socket's own stream (Brook's fetch)", () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** An event stream served on loopback, written by `write`, read through `createUpstreamFetch`. */
  async function served(write: (res: ServerResponse) => void) {
    const state = { closedEarly: false };
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.on("close", () => {
        if (!res.writableFinished) state.closedEarly = true;
      });
      write(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const upstream = createUpstreamFetch();
    closers.push(
      () => upstream.close(),
      () => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const response = await upstream.fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    // Brook's fetch builds no web stream for an event stream unless asked: the reader takes the socket's.
    return { response, state };
  }

  it("hands each read's chunks to the waiting reader, in order, and ends with the body", async () => {
    const { response } = await served((res) => {
      res.write(chunk("你好"));
      setTimeout(() => res.end(`${chunk(" world")}data: [DONE]\n\n`), 20);
    });
    expect(await collect(response)).toEqual(["你好", " world"]);
  });

  it("keeps a read no one waits for until it is taken, then goes on reading", async () => {
    const { response } = await served((res) => {
      res.write(chunk("a"));
      setTimeout(() => res.end(`${chunk("b")}data: [DONE]\n\n`), 20);
    });
    const chunks = completionChunks(response);
    const first = await chunks.next();
    // The second read arrives while nobody waits for it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rest: unknown[] = [];
    for await (const batch of chunks) rest.push(...batch.map(contentOf));
    expect([...(first.value as CompletionChunk[]).map(contentOf), ...rest]).toEqual(["a", "b"]);
  });

  it("throws a failure after the chunks before it, and drops the connection", async () => {
    const { response, state } = await served((res) => {
      res.write(`${chunk("a")}data: {not json\n\n`);
    });
    const contents: unknown[] = [];
    const error = await (async () => {
      for await (const batch of completionChunks(response)) contents.push(...batch.map(contentOf));
    })().catch((caught: unknown) => caught);
    expect(contents).toEqual(["a"]);
    expect(error).toBeInstanceOf(SyntaxError);
    await vi.waitFor(() => expect(state.closedEarly).toBe(true));
  });

  it("throws when the connection drops mid-answer", async () => {
    const { response } = await served((res) => {
      res.write(chunk("a"));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(collect(response)).rejects.toBeInstanceOf(Error);
  });

  it("drops the connection when the reader stops early", async () => {
    const { response, state } = await served((res) => {
      res.write(chunk("a"));
    });
    for await (const _ of completionChunks(response)) break;
    await vi.waitFor(() => expect(state.closedEarly).toBe(true));
  });
  /** The reader of a served stream, in push mode. */
  function pushable(response: Response): PushableChunks {
    const chunks = completionChunks(response);
    if (!canPushChunks(chunks)) throw new Error("the socket's stream should push");
    return chunks;
  }

  it("pushes each read's chunks to the sink in order, the one taken first by next() included, and resolves at the end", async () => {
    const { response } = await served((res) => {
      res.write(chunk("a"));
      setTimeout(() => res.write(chunk("b")), 20);
      setTimeout(() => res.end(`${chunk("c")}data: [DONE]\n\n`), 40);
    });
    const chunks = pushable(response);
    const first = await chunks.next();
    const pushed: unknown[][] = [];
    await chunks.pushTo((batch) => {
      pushed.push(batch.map(contentOf));
      return undefined;
    });
    expect([(first.value as CompletionChunk[]).map(contentOf), ...pushed]).toEqual([["a"], ["b"], ["c"]]);
  });

  it("reads nothing more while the sink's promise is pending (the model server waits), then goes on", async () => {
    let release = () => {};
    const { response } = await served((res) => {
      res.write(chunk("a"));
      setTimeout(() => res.end(`${chunk("b")}data: [DONE]\n\n`), 20);
    });
    const chunks = pushable(response);
    const pushed: unknown[] = [];
    const done = chunks.pushTo((batch) => {
      pushed.push(...batch.map(contentOf));
      if (pushed.length > 1) return undefined;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await vi.waitFor(() => expect(pushed).toEqual(["a"]));
    // The rest of the answer has arrived by now; the sink has not taken it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pushed).toEqual(["a"]);
    release();
    await done;
    expect(pushed).toEqual(["a", "b"]);
  });

  it("rejects with the sink's own error and drops the connection", async () => {
    const { response, state } = await served((res) => {
      res.write(chunk("a"));
    });
    const failure = new Error("the run log refused");
    await expect(
      pushable(response).pushTo(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    await vi.waitFor(() => expect(state.closedEarly).toBe(true));
  });

  it("rejects with a failure after pushing the chunks before it, and drops the connection", async () => {
    const { response, state } = await served((res) => {
      res.write(`${chunk("a")}data: {not json\n\n`);
    });
    const pushed: unknown[] = [];
    const error = await pushable(response)
      .pushTo((batch) => {
        pushed.push(...batch.map(contentOf));
        return undefined;
      })
      .catch((caught: unknown) => caught);
    expect(pushed).toEqual(["a"]);
    expect(error).toBeInstanceOf(SyntaxError);
    await vi.waitFor(() => expect(state.closedEarly).toBe(true));
  });

  it("rejects when the connection drops mid-answer", async () => {
    const { response } = await served((res) => {
      res.write(chunk("a"));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(pushable(response).pushTo(() => undefined)).rejects.toBeInstanceOf(Error);
  });
});
