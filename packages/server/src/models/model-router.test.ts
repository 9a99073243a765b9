import { afterEach, describe, expect, it, vi } from "vitest";
import { BrookError } from "../errors/brook-error.js";
import type { ChatModel, ModelCall, ModelPart } from "./chat-model.js";
import type { ModelCatalog } from "./model-catalog.js";
import { type AttemptRecord, ModelRouter } from "./model-router.js";

/** A model server stand-in: the batches it yields, or the error it throws before any. */
function scripted(script: { batches?: ModelPart[][]; fails?: BrookError }): ChatModel & { calls: string[] } {
  const calls: string[] = [];
  return {
    mode: "openai",
    calls,
    async *stream(call: ModelCall) {
      calls.push(call.model);
      if (script.fails !== undefined) throw script.fails;
      for (const batch of script.batches ?? []) yield batch;
    },
  };
}

const catalog: ModelCatalog = {
  open: false,
  models: [
    {
      name: "main",
      fallbacks: ["backup"],
      prices: undefined,
      deployments: [deployment("main#1", "main", "m")],
    },
    { name: "backup", fallbacks: [], prices: undefined, deployments: [deployment("backup#1", "backup", "b")] },
  ],
};

function deployment(id: string, name: string, upstreamModel: string, reasoning = false) {
  return {
    id,
    name,
    baseURL: undefined,
    apiKey: undefined,
    upstreamModel,
    maxConcurrent: undefined,
    headers: {},
    reasoning,
  };
}

/** A server that answers after `delayMs`, or closes when the call is aborted. */
function slow(delayMs: number): ChatModel {
  return {
    mode: "openai",
    async *stream(call: ModelCall) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs);
        call.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(call.signal.reason);
        });
      });
      yield [{ type: "text", text: "at last" }];
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

async function collect(model: ChatModel, name: string): Promise<(readonly ModelPart[])[]> {
  const batches: (readonly ModelPart[])[] = [];
  for await (const batch of model.stream({ model: name, messages: [], signal: new AbortController().signal })) {
    batches.push(batch);
  }
  return batches;
}

describe("ModelRouter", () => {
  it("passes the answering server's batches through untouched after the first (no work per event)", async () => {
    const later: ModelPart[] = [{ type: "text", text: " world" }];
    const last: ModelPart[] = [{ type: "finish", reason: "stop" }];
    const main = scripted({ batches: [[{ type: "accepted" }], [{ type: "text", text: "hello" }], later, last] });
    const backup = scripted({});
    const router = new ModelRouter({
      catalog,
      adapters: new Map([
        ["main#1", main],
        ["backup#1", backup],
      ]),
      firstTokenMs: 0,
      fallbackMs: 0,
      cooldownMs: 1_000,
    });
    const batches = await collect(router, "main");
    expect(batches[0]).toEqual([
      { type: "accepted" },
      { type: "routed", model: "main", deployment: "main#1", attempts: 1 },
      { type: "text", text: "hello" },
    ]);
    expect(batches[1]).toBe(later);
    expect(batches[2]).toBe(last);
    expect(main.calls).toEqual(["m"]);
    expect(backup.calls).toEqual([]);
    expect(router.states().map((state) => state.inFlight)).toEqual([0, 0]);
  });

  it("moves on to the fallback after a 5xx before the first token, and tells each attempt", async () => {
    const attempts: AttemptRecord[] = [];
    const router = new ModelRouter({
      catalog,
      adapters: new Map([
        ["main#1", scripted({ fails: new BrookError("upstream_error", "The model server failed (HTTP 503).") })],
        ["backup#1", scripted({ batches: [[{ type: "text", text: "from backup" }]] })],
      ]),
      firstTokenMs: 0,
      fallbackMs: 0,
      cooldownMs: 1_000,
      onAttempt: (record) => attempts.push(record),
    });
    const batches = await collect(router, "main");
    expect(batches[0]?.[0]).toEqual({ type: "routed", model: "backup", deployment: "backup#1", attempts: 2 });
    expect(attempts.map((attempt) => [attempt.deployment, attempt.outcome, attempt.code])).toEqual([
      ["main#1", "failed", "upstream_error"],
      ["backup#1", "answered", undefined],
    ]);
    expect(router.usable("main")).toBe(false);
    expect(router.usable("backup")).toBe(true);
  });

  it("ends with the server's own error when it does not move on (a 401), never trying the fallback", async () => {
    const backup = scripted({ batches: [[{ type: "text", text: "x" }]] });
    const router = new ModelRouter({
      catalog,
      adapters: new Map([
        ["main#1", scripted({ fails: new BrookError("upstream_auth") })],
        ["backup#1", backup],
      ]),
      firstTokenMs: 0,
      fallbackMs: 0,
      cooldownMs: 1_000,
    });
    await expect(collect(router, "main")).rejects.toMatchObject({ code: "upstream_auth" });
    expect(backup.calls).toEqual([]);
  });

  it("leaves a server silent past FALLBACK_TIMEOUT_MS for the fallback, but gives a reasoning one the whole wait", async () => {
    vi.useFakeTimers();
    const route = async (reasoning: boolean) => {
      const router = new ModelRouter({
        catalog: {
          open: false,
          models: [
            {
              name: "main",
              fallbacks: ["backup"],
              prices: undefined,
              deployments: [deployment("main#1", "main", "m", reasoning)],
            },
            { name: "backup", fallbacks: [], prices: undefined, deployments: [deployment("backup#1", "backup", "b")] },
          ],
        },
        adapters: new Map([
          ["main#1", slow(5_000)],
          ["backup#1", scripted({ batches: [[{ type: "text", text: "backup" }]] })],
        ]),
        firstTokenMs: 60_000,
        fallbackMs: 1_000,
        cooldownMs: 1_000,
      });
      const pending = collect(router, "main");
      await vi.advanceTimersByTimeAsync(5_000);
      return (await pending)[0]?.find((part) => part.type === "routed");
    };
    expect(await route(false)).toMatchObject({ model: "backup", attempts: 2 });
    expect(await route(true)).toMatchObject({ model: "main", attempts: 1 });
  });
});
