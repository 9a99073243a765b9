import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { BrookError } from "../errors/brook-error.js";
import type {
  OAuthGrant,
  OAuthRegisteredClient,
  OAuthTokenStore,
  PendingAuthorization,
} from "../tools/oauth-token-store.js";
import type { RedisClients } from "./redis-clients.js";

/**
 * MCP servers' OAuth grants shared by every instance: a server connected through one instance is
 * used by all, a refresh made by one serves the others, and a connect flow started on one ends on
 * whichever instance the browser comes back to. With a key (MCP_OAUTH_KEY) every value is sealed
 * (AES-256-GCM) before it reaches Redis.
 */
export class RedisOAuthTokenStore implements OAuthTokenStore {
  readonly #key: Buffer | undefined;

  constructor(
    private readonly clients: RedisClients,
    /** A passphrase; absent: values are stored as JSON. */
    key?: string,
  ) {
    this.#key = key === undefined ? undefined : createHash("sha256").update(key).digest();
  }

  grant(server: string): Promise<OAuthGrant | undefined> {
    return this.#get(serverKey(server, "grant"));
  }

  saveGrant(server: string, grant: OAuthGrant): Promise<void> {
    return this.#set(serverKey(server, "grant"), grant);
  }

  deleteGrant(server: string): Promise<void> {
    return this.#delete(serverKey(server, "grant"));
  }

  client(server: string): Promise<OAuthRegisteredClient | undefined> {
    return this.#get(serverKey(server, "client"));
  }

  saveClient(server: string, client: OAuthRegisteredClient): Promise<void> {
    return this.#set(serverKey(server, "client"), client);
  }

  deleteClient(server: string): Promise<void> {
    return this.#delete(serverKey(server, "client"));
  }

  saveFlow(state: string, flow: PendingAuthorization, ttlMs: number): Promise<void> {
    return this.#set(flowKey(state), flow, ttlMs);
  }

  async takeFlow(state: string): Promise<PendingAuthorization | undefined> {
    return await this.#run(async () => this.#open(await this.clients.commands.getdel(flowKey(state))));
  }

  async #get<T>(key: string): Promise<T | undefined> {
    return await this.#run(async () => this.#open(await this.clients.commands.get(key)));
  }

  async #set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    const sealed = this.#seal(JSON.stringify(value));
    await this.#run(() =>
      ttlMs === undefined
        ? this.clients.commands.set(key, sealed)
        : this.clients.commands.set(key, sealed, "PX", ttlMs),
    );
  }

  async #delete(key: string): Promise<void> {
    await this.#run(() => this.clients.commands.del(key));
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new BrookError("unavailable", undefined, { cause: error });
    }
  }

  #seal(text: string): string {
    if (this.#key === undefined) return text;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const sealed = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
    return `${sealedPrefix}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64")}`;
  }

  #open<T>(stored: string | null): T | undefined {
    if (stored === null) return undefined;
    // Written before a key was set: read as it is (what is written next is sealed).
    if (!stored.startsWith(sealedPrefix)) return JSON.parse(stored) as T;
    if (this.#key === undefined) return undefined;
    const bytes = Buffer.from(stored.slice(sealedPrefix.length), "base64");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
      return JSON.parse(text) as T;
    } catch {
      // Sealed with another key: as if nothing were stored (the server needs connecting again).
      return undefined;
    }
  }
}

const sealedPrefix = "sealed:v1:";
const serverKey = (server: string, what: "grant" | "client") => `brook:mcp-oauth:{${server}}:${what}`;
const flowKey = (state: string) => `brook:mcp-oauth:flow:{${state}}`;
