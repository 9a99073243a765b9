import { execFile } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { validate } from "@readme/openapi-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { sseData } from "./support/sse-text.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../", import.meta.url));
const key = "openapi-test-key";

type Document = { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };

async function documentOf(url: string): Promise<Document> {
  const response = await fetch(`${url}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return (await response.json()) as Document;
}

describe("GET /openapi.json", () => {
  let keyed: Harness;
  let open: Harness;
  beforeAll(async () => {
    keyed = await startHarness({ BROOK_API_KEYS: key }, { text: "Typed from the document." });
    open = await startHarness({}, { text: "Typed from the document." });
  });
  afterAll(async () => {
    await keyed.close();
    await open.close();
  });

  it("is a valid OpenAPI 3.1 document, open to callers without a key, keys on or off", async () => {
    for (const harness of [keyed, open]) {
      const document = await documentOf(harness.url);
      expect(document.openapi).toMatch(/^3\.1\./);
      const result = await validate(structuredClone(document) as never);
      expect(result.valid ? [] : result.errors).toEqual([]);
    }
    const document = await documentOf(keyed.url);
    expect(document).toMatchObject({ components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } });
  });

  it("describes what the routes really answer", async () => {
    const document = await documentOf(open.url);
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: "brook", components: document.components });
    const check = (name: string, value: unknown) => {
      const valid = ajv.validate({ $ref: `brook#/components/schemas/${name}` }, value);
      expect(valid ? [] : ajv.errors, `${name}: ${JSON.stringify(value)}`).toEqual([]);
    };
    const get = async (path: string) => (await fetch(`${open.url}${path}`)).json();
    const post = (path: string, body: unknown) =>
      fetch(`${open.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    check("ServiceInfo", await get("/"));
    check("Health", await get("/health"));
    check("Readiness", await get("/health/ready"));
    check("ToolList", await get("/tools"));
    check("ChatResult", await (await post("/chat", { message: "hi" })).json());
    const stream = await post("/chat/stream", { message: "hi" });
    const events = sseData(await stream.text()).map((data) => JSON.parse(data));
    expect(events.length).toBeGreaterThan(2);
    for (const event of events) check("ChatEvent", event);
    check("Stats", await get("/stats"));
    const refused = await post("/chat", { message: "" });
    expect(refused.status).toBe(400);
    check("ErrorBody", await refused.json());
    check("OpenAIModelList", await get("/v1/models"));

    // And a shape it does not describe fails: the check has teeth.
    expect(ajv.validate({ $ref: "brook#/components/schemas/ChatEvent" }, { type: "content", chunk: 1 })).toBe(false);
  });

  it("generates a client (openapi-typescript + openapi-fetch) that typechecks and calls Brook", async () => {
    const document = await documentOf(keyed.url);
    const dir = await mkdtemp(join(tmpdir(), "brook-openapi-client-"));
    try {
      // The generated types, and the one package the client needs (from this workspace).
      await writeFile(join(dir, "brook-api.ts"), astToString(await openapiTS(document as never)));
      const require = createRequire(import.meta.url);
      await mkdir(join(dir, "node_modules"));
      await symlink(
        await realpath(dirname(require.resolve("openapi-fetch/package.json"))),
        join(dir, "node_modules/openapi-fetch"),
      );
      await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      await writeFile(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module: "nodenext",
            target: "es2024",
            allowImportingTsExtensions: true,
            skipLibCheck: true,
            types: [],
          },
          include: ["*.ts"],
        }),
      );
      const preamble = `import createClient from "openapi-fetch";
import type { paths } from "./brook-api.ts";
declare const process: { env: Record<string, string>; argv: string[] };
const client = createClient<paths>({
  baseUrl: process.env.BROOK_URL,
  headers: { authorization: \`Bearer \${process.env.BROOK_KEY}\` },
});
`;
      await writeFile(
        join(dir, "client.ts"),
        `${preamble}
const { data, error, response } = await client.POST("/chat", { body: { message: "你好，世界！", temperature: 0.2 } });
if (data === undefined) throw new Error(\`\${response.status}: \${error?.code}\`);
const answer: string = data.response;
const tokens: number = data.usage.total_tokens;
const health = await client.GET("/health");
const status: "ok" | "draining" | undefined = health.data?.status;
const refused = await client.POST("/chat", { body: { message: "hi" }, headers: { authorization: "Bearer wrong" } });
console.log(JSON.stringify({ answer, tokens, status, refused: refused.error?.code, refusedStatus: refused.response.status }));
`,
      );
      // Mistakes the generated types catch.
      await writeFile(
        join(dir, "mistakes.ts"),
        `${preamble}
const { data } = await client.POST("/chat", { body: { mesage: "hi" } });
const wrong: number = data!.response;
await client.GET("/chats");
`,
      );

      const typecheck = await run(join(root, "node_modules/.bin/tsc"), ["-p", dir], { cwd: dir }).then(
        () => "",
        (failure: { stdout: string }) => failure.stdout,
      );
      const errors = typecheck.split("\n").filter((line) => line.includes("error TS"));
      expect(errors.filter((line) => !line.startsWith("mistakes.ts"))).toEqual([]);
      // One error on each mistake: the misspelt field, the wrong type, the path Brook does not have.
      const lines = errors.map((line) => Number(/^mistakes\.ts\((\d+),/.exec(line)?.[1]));
      const first = preamble.split("\n").length + 1;
      expect(lines).toEqual([first, first + 1, first + 2]);
      expect(errors[0]).toContain("'mesage' does not exist");

      const { stdout } = await run(process.execPath, [join(dir, "client.ts")], {
        cwd: dir,
        env: { ...process.env, BROOK_URL: keyed.url, BROOK_KEY: key },
      });
      expect(JSON.parse(stdout)).toEqual({
        answer: "Typed from the document.",
        tokens: expect.any(Number),
        status: "ok",
        refused: "unauthorized",
        refusedStatus: 401,
      });
      expect(keyed.upstream.requests.at(-1)?.body).toMatchObject({ temperature: 0.2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
