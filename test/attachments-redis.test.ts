import { createBrookClient } from "@brook/client";
import type { ChatEvent } from "@brook/shared";
import { describe, expect, it } from "vitest";
import { startCluster } from "./support/brook-cluster.js";
import { contentOf } from "./support/brook-harness.js";
import { pngDataUrl } from "./support/images.js";
import { afterThisTest } from "./support/per-test.js";

describe("attachments with REDIS_URL", { timeout: 60_000 }, () => {
  it("travel in the request only: the run resumes on another instance, and Redis never holds them", async () => {
    const cluster = await startCluster(2, {}, { text: "A wide picture." });
    afterThisTest(() => cluster.close());
    const [first, second] = cluster.instances;
    if (first === undefined || second === undefined) throw new Error("two instances expected");
    const image = pngDataUrl(1600, 400, 64 * 1024);
    const runId = await createBrookClient({ url: first.url }).startChat({
      message: "Describe it",
      attachments: [{ type: "image", url: image }],
    });
    // Read on the other instance: from the run's events in Redis, which need no attachment.
    const events: ChatEvent[] = [];
    for await (const { event } of createBrookClient({ url: second.url }).readRun(runId)) events.push(event);
    expect(contentOf(events)).toBe("A wide picture.");
    expect(events.at(-1)?.type).toBe("complete");
    expect(cluster.upstream.requests[0]?.body.messages.at(-1).content[1]).toEqual({
      type: "image_url",
      image_url: { url: image },
    });

    const { client } = cluster.redis;
    const marker = image.slice(-2_000, -1_000);
    const stored: string[] = [];
    for (const key of await client.keys("*")) {
      const type = await client.type(key);
      if (type === "string") stored.push((await client.get(key)) ?? "");
      else if (type === "hash") stored.push(JSON.stringify(await client.hgetall(key)));
      else if (type === "stream") stored.push(JSON.stringify(await client.xrange(key, "-", "+")));
      else if (type === "list") stored.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === "set") stored.push(JSON.stringify(await client.smembers(key)));
      else if (type === "zset") stored.push(JSON.stringify(await client.zrange(key, "0", "-1")));
    }
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.some((value) => value.includes(marker))).toBe(false);
    expect(stored.some((value) => value.includes("A wide picture."))).toBe(true);
  });
});
