import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/config-error.js";
import { loadMcpServers, parseMcpServersFile } from "./mcp-servers-config.js";

describe("MCP server configuration", () => {
  it("reads a server's approval, and names the field when it is wrong", () => {
    const specs = parseMcpServersFile(
      {
        mcpServers: {
          files: { command: "files-server", approval: ["write_file"] },
          mail: { url: "https://mail.example.com/mcp", approval: "all" },
        },
      },
      "test.json",
    );
    expect(specs.map((spec) => spec.approval)).toEqual([["write_file"], "all"]);
    expect(() =>
      parseMcpServersFile({ mcpServers: { mail: { url: "https://m.example.com/mcp", approval: "some" } } }, "t.json"),
    ).toThrow(/mcpServers\.mail\.approval/);
  });

  it("reads remote and stdio servers in the mcpServers shape", () => {
    const specs = parseMcpServersFile(
      {
        mcpServers: {
          weather: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer x" } },
          legacy: { url: "http://127.0.0.1:9000/sse", type: "sse" },
          files: { command: "npx", args: ["-y", "some-server"], env: { ROOT: "/data" } },
          off: { command: "never", disabled: true },
        },
      },
      "test.json",
    );
    expect(specs).toEqual([
      {
        kind: "remote",
        name: "weather",
        url: "https://mcp.example.com/mcp",
        headers: { Authorization: "Bearer x" },
        preferSse: false,
      },
      { kind: "remote", name: "legacy", url: "http://127.0.0.1:9000/sse", headers: {}, preferSse: true },
      {
        kind: "stdio",
        name: "files",
        command: "npx",
        args: ["-y", "some-server"],
        env: { ROOT: "/data" },
        cwd: undefined,
      },
    ]);
  });

  it("names every bad field in one error", () => {
    const parse = () =>
      parseMcpServersFile(
        {
          mcpServers: {
            a: { url: "ftp://x" },
            b: { command: "run", args: "not a list" },
            "bad name": { url: "http://x" },
          },
        },
        "test.json",
      );
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/MCP_SERVERS \(test\.json\): .*mcpServers\.bad name/);
    expect(() => parseMcpServersFile({ mcpServers: { a: { url: "ftp://x" } } }, "f")).toThrow(/mcpServers\.a\.url/);
    expect(() => parseMcpServersFile({ mcpServers: { b: { command: "run", args: "x" } } }, "f")).toThrow(
      /mcpServers\.b\.args/,
    );
  });

  it("reads OAuth client credentials (a secret or a private key) and names a bad oauth field", () => {
    const [secret, key] = parseMcpServersFile(
      {
        mcpServers: {
          tracker: {
            url: "https://mcp.example.com/mcp",
            headers: { "X-Team": "a" },
            oauth: { client_id: "brook", client_secret: "s", scope: "read", issuer: "https://auth.example.com" },
          },
          ledger: { url: "https://ledger.example.com/mcp", oauth: { client_id: "brook", private_key: "PEM" } },
        },
      },
      "test.json",
    );
    expect(secret).toMatchObject({
      headers: { "X-Team": "a" },
      oauth: {
        grant: "client_credentials",
        clientId: "brook",
        clientSecret: "s",
        scope: "read",
        issuer: "https://auth.example.com",
      },
    });
    expect(key).toMatchObject({ oauth: { clientId: "brook", privateKey: "PEM", algorithm: "ES256" } });
    const parse = (oauth: unknown) => () =>
      parseMcpServersFile({ mcpServers: { a: { url: "https://x.example/mcp", oauth } } }, "f");
    expect(parse({ client_secret: "s" })).toThrow(/mcpServers\.a\.oauth\.client_id/);
    expect(parse({ client_id: "c" })).toThrow(/mcpServers\.a\.oauth: needs either "client_secret" or "private_key"/);
    expect(parse({ client_id: "c", client_secret: "s", grant: "password" })).toThrow(/mcpServers\.a\.oauth\.grant/);
  });

  it("reads the OAuth authorization code: a pre-registered client, or none (Brook registers itself)", () => {
    const specs = parseMcpServersFile(
      {
        mcpServers: {
          linear: {
            url: "https://mcp.linear.example/mcp",
            oauth: { grant: "authorization_code", client_id: "brook", client_secret: "s", scope: "read write" },
          },
          notes: {
            url: "https://notes.example/mcp",
            oauth: { grant: "authorization_code", client_metadata_url: "https://brook.example/client.json" },
          },
        },
      },
      "f",
    );
    expect(specs.map((spec) => (spec.kind === "remote" ? spec.oauth : undefined))).toEqual([
      {
        grant: "authorization_code",
        clientId: "brook",
        clientSecret: "s",
        clientMetadataUrl: undefined,
        scope: "read write",
      },
      {
        grant: "authorization_code",
        clientId: undefined,
        clientSecret: undefined,
        clientMetadataUrl: "https://brook.example/client.json",
        scope: undefined,
      },
    ]);
    const parse = (oauth: unknown) => () =>
      parseMcpServersFile({ mcpServers: { a: { url: "https://x.example/mcp", oauth } } }, "f");
    expect(parse({ grant: "authorization_code", client_secret: "s" })).toThrow(
      /mcpServers\.a\.oauth\.client_secret: "client_secret" needs "client_id"/,
    );
    expect(parse({ grant: "authorization_code", client_metadata_url: "http://insecure.example/c.json" })).toThrow(
      /mcpServers\.a\.oauth\.client_metadata_url: must be an https URL/,
    );
    expect(parse({ grant: "authorization_code", private_key: "PEM" })).toThrow(/mcpServers\.a\.oauth/);
  });

  it("adds MCP_URL as the server named mcp, and refuses a file that reuses that name", () => {
    expect(loadMcpServers({ MCP_URL: "http://127.0.0.1:3001/mcp", MCP_SERVERS: undefined })).toEqual([
      { kind: "remote", name: "mcp", url: "http://127.0.0.1:3001/mcp", headers: {}, preferSse: false },
    ]);
    const file = join(mkdtempSync(join(tmpdir(), "brook-mcp-")), "mcp.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { mcp: { url: "http://127.0.0.1:1/mcp" } } }));
    expect(() => loadMcpServers({ MCP_URL: "http://127.0.0.1:3001/mcp", MCP_SERVERS: file })).toThrow(
      /mcpServers\.mcp: the name "mcp" is already used by MCP_URL/,
    );
  });
});
