import { randomUUID } from "node:crypto";
import type { Backend, BackendOptions } from "@brook/server";
import { afterEach, describe, expect, it, vi } from "vitest";

/** Two instances sharing one store (the same one twice when nothing is shared). */
export interface TokenStorePair {
  first: Backend;
  second: Backend;
}

export type TokenStoreFactory = (options: BackendOptions) => Promise<TokenStorePair>;

const grant = (token: string) => ({
  tokens: { access_token: token, token_type: "Bearer", expires_in: 3600, refresh_token: `r-${token}` },
  receivedAt: 1_700_000_000_000,
  redirectUri: "https://brook.example/mcp/oauth/callback",
});

/**
 * The `OAuthTokenStore` contract (the MCP servers' OAuth grants): what each backend's store must
 * do, run against each one with two instances. A new backend passes it before Brook uses it.
 */
export function oauthTokenStoreContract(name: string, factory: TokenStoreFactory): void {
  describe(`OAuthTokenStore contract: ${name}`, () => {
    const made: TokenStorePair[] = [];
    const pair = async () => {
      const created = await factory({
        instanceId: `tokens-${randomUUID().slice(0, 8)}`,
        retention: { retentionMs: 60_000, retainMax: 100 },
        maxRunMs: 0,
        maxConcurrentRuns: 10,
        activeRuns: () => 0,
        log: { info: () => {}, warn: () => {} },
      });
      made.push(created);
      return { first: created.first.oauthTokens, second: created.second.oauthTokens };
    };
    afterEach(async () => {
      for (const { first, second } of made.splice(0)) {
        await first.close();
        if (second !== first) await second.close();
      }
    });
    const server = () => `server-${randomUUID().slice(0, 8)}`;

    it("keeps a server's grant, replaces it and forgets it, for every instance", async () => {
      const { first, second } = await pair();
      const name = server();
      expect(await second.grant(name)).toBeUndefined();
      await first.saveGrant(name, grant("one"));
      expect(await second.grant(name)).toEqual(grant("one"));
      await second.saveGrant(name, grant("two"));
      expect(await first.grant(name)).toEqual(grant("two"));
      await first.deleteGrant(name);
      expect(await second.grant(name)).toBeUndefined();
    });

    it("keeps each server's grant and registered client apart", async () => {
      const { first, second } = await pair();
      const [a, b] = [server(), server()];
      await first.saveGrant(a, grant("a"));
      const client = { information: { client_id: "dyn-1", issuer: "https://as.example" }, redirectUri: "https://b/cb" };
      await first.saveClient(b, client);
      expect(await second.grant(b)).toBeUndefined();
      expect(await second.client(a)).toBeUndefined();
      expect(await second.client(b)).toEqual(client);
      await second.deleteClient(b);
      expect(await first.client(b)).toBeUndefined();
      expect(await first.grant(a)).toEqual(grant("a"));
    });

    it("gives a connect flow once, on any instance", async () => {
      const { first, second } = await pair();
      const state = randomUUID();
      const flow = { server: "s", codeVerifier: "v".repeat(43), redirectUri: "https://b/cb" };
      await first.saveFlow(state, flow, 60_000);
      expect(await second.takeFlow(randomUUID())).toBeUndefined();
      expect(await second.takeFlow(state)).toEqual(flow);
      expect(await first.takeFlow(state)).toBeUndefined();
      expect(await second.takeFlow(state)).toBeUndefined();
    });

    it("forgets a connect flow once its time is up", async () => {
      const { first, second } = await pair();
      const state = randomUUID();
      await first.saveFlow(state, { server: "s", codeVerifier: "v", redirectUri: "https://b/cb" }, 30);
      const kept = randomUUID();
      await first.saveFlow(kept, { server: "s", codeVerifier: "w", redirectUri: "https://b/cb" }, 60_000);
      await vi.waitFor(async () => expect(await second.takeFlow(state)).toBeUndefined(), { timeout: 2_000 });
      expect((await second.takeFlow(kept))?.codeVerifier).toBe("w");
    });
  });
}
