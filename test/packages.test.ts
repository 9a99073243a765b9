/**
 * @brook/shared and @brook/client as another project gets them: packed with `pnpm pack` (which
 * builds them), installed with the machine's own npm into a project outside the workspace,
 * type-checked by a strict consumer, run against a real Brook, and the installed `brook` command.
 * One pack and one install per run; the tests share them.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./support/brook-harness.js";
import { fake, sseData } from "./support/sse-text.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const workspaceTsc = join(root, "node_modules", "typescript", "bin", "tsc");
const workspaceTypes = join(root, "node_modules", "@types");

/**
 * What another project on this machine has: PATH without the workspace's node_modules/.bin (so
 * the machine's own node and npm), and none of the variables pnpm sets for its scripts.
 */
const machineEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm|pnpm)_/i.test(name))),
  PATH: (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(delimiter),
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a failure to start throws, a non-zero exit is returned. */
function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : (error as { code?: unknown }).code;
        if (typeof code !== "number") reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

async function succeed(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** Package `exports` as they are without the workspace-only `@brook/source` condition. */
function withoutSourceCondition(exports: unknown): unknown {
  if (typeof exports !== "object" || exports === null) return exports;
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([condition]) => condition !== "@brook/source")
      .map(([key, value]) => [key, withoutSourceCondition(value)]),
  );
}

const consumerManifest = { name: "brook-consumer", private: true, type: "module" };

/** The strictest settings a service is likely to use; our declarations are checked too (no skipLibCheck). */
const consumerTsconfig = {
  compilerOptions: {
    target: "ES2022",
    // tRPC's types name fetch's DOM types (RequestInfo) and Disposable.
    lib: ["ES2023", "ESNext.Disposable", "DOM"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    // A Node service brings @types/node; the workspace's copy stands in for the consumer's own.
    typeRoots: [workspaceTypes],
    types: ["node"],
    rootDir: "src",
    outDir: "out",
  },
  include: ["src"],
};

/** Streams an answer through the typed client, reads a REST stream with readChatEvents, prints JSON. */
const consumerProgram = `import { type AppRouter, type ChatEvent, createBrookClient } from "@brook/client";
import { ChatRequest, type Health, readChatEvents } from "@brook/shared";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";

const url = process.env.BROOK_URL;
if (url === undefined) throw new Error("BROOK_URL is not set");
const client = createBrookClient({ url });

const request: ChatRequest = { message: "Hello from another project", temperature: 0.2 };
let streamed = "";
const types: ChatEvent["type"][] = [];
for await (const event of client.streamChat(request)) {
  types.push(event.type);
  if (event.type === "content") streamed += event.chunk;
  if (event.type === "complete") console.error(event.usage.total_tokens, event.timing.ttft_ms);
}

const health: Health = await client.trpc.health.query();

let missing: NonNullable<TRPCClientError<AppRouter>["data"]>["brook_code"];
try {
  await client.trpc.chat.cancel.mutate({ run_id: "no-such-run" });
} catch (error) {
  if (error instanceof TRPCClientError) missing = (error as TRPCClientError<AppRouter>).data?.brook_code;
}

const response = await fetch(url + "/chat/stream", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(ChatRequest.parse({ message: "And over REST" })),
});
if (response.body === null) throw new Error("no body");
let restText = "";
const restIds: (string | undefined)[] = [];
for await (const { id, event } of readChatEvents(response.body)) {
  restIds.push(id);
  if (event.type === "content") restText += event.chunk;
}

const Recipe = z.object({ title: z.string(), minutes: z.number().int() });
const typed = client.streamObject({ message: "A recipe", schema: Recipe });
let partials = 0;
for await (const partial of typed) {
  const title: string | undefined = partial.title;
  if (title !== undefined) partials += 1;
}
const recipe: { title: string; minutes: number } = await typed.object;

console.log(JSON.stringify({ streamed, types, health: health.status, mode: health.mode, missing, restText, restIds, recipe, partials }));
`;

/** Each line that must not typecheck ends with `// wrong`. */
const wrongProgram = `import { type ChatEvent, createBrookClient } from "@brook/client";
import { ChatRequest } from "@brook/shared";
import { z } from "zod";

const client = createBrookClient({ url: "http://127.0.0.1:8081" });
export const hot = client.streamChat({ message: "hi", temperature: "hot" }); // wrong
export const silent = client.trpc.chat.complete.mutate({ system_prompt: "Be brief." }); // wrong
export const numeric: ChatRequest = { message: 42 }; // wrong
export const unknown = client.trpc.chat.erase.mutate({ run_id: "r" }); // wrong
export const finished = (event: ChatEvent) => event.type === "finished"; // wrong
export const cancel = client.trpc.chat.cancel.mutate({}); // wrong
export const fine = client.trpc.chat.cancel.mutate({ run_id: "r" });
export const parsed = ChatRequest.parse({ message: "hi" }).message.toUpperCase();
export const recipe = client.streamObject({ message: "hi", schema: z.object({ n: z.number() }) });
export const n: string = await recipe.object.then((value) => value.n); // wrong
`;

describe("@brook/shared and @brook/client installed in another project", { timeout: 120_000 }, () => {
  let work: string;
  let consumer: string;
  let typecheck: Run;
  let brook: Harness;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "brook-packages-"));
    const tarballs = join(work, "tarballs");
    consumer = join(work, "consumer");
    await mkdir(join(consumer, "src"), { recursive: true });
    // `pnpm pack` runs each package's prepack, which builds it (the client builds what it needs first).
    for (const name of ["@brook/client", "@brook/shared"]) {
      await succeed("pnpm", ["--filter", name, "pack", "--pack-destination", tarballs], { cwd: root });
    }
    const packed = (await readdir(tarballs)).map((file) => join(tarballs, file));
    await writeFile(join(consumer, "package.json"), JSON.stringify(consumerManifest));
    // The registry is reachable: npm fetches the third-party dependencies (its cache first).
    await succeed("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packed], {
      cwd: consumer,
      env: machineEnv,
    });
    await writeFile(join(consumer, "tsconfig.json"), JSON.stringify(consumerTsconfig));
    await writeFile(join(consumer, "src", "consumer.ts"), consumerProgram);
    await writeFile(join(consumer, "src", "wrong.ts"), wrongProgram);
    // Emits out/consumer.js even though wrong.ts fails, as tsc does.
    typecheck = await run(process.execPath, [workspaceTsc, "-p", ".", "--pretty", "false"], { cwd: consumer });
    brook = await startHarness();
  }, 300_000);

  afterAll(async () => {
    await brook?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it("hold built JavaScript, one self-contained declaration file and a manifest with no workspace links", async () => {
    const client = join(consumer, "node_modules", "@brook", "client");
    const shared = join(consumer, "node_modules", "@brook", "shared");
    const clientFiles = (await readdir(client, { recursive: true }))
      .filter((file) => !file.startsWith("node_modules"))
      .sort();
    expect(clientFiles).toEqual(
      expect.arrayContaining(["README.md", "bin/brook.js", "dist/index.js", "dist/cli/main.js"]),
    );
    // The client's types are one file: the router's type is inside it, the server is not needed.
    expect(clientFiles.filter((file) => file.endsWith(".d.ts"))).toEqual(["dist/index.d.ts"]);
    expect(
      clientFiles.some((file) => file.startsWith("src/") || (file.endsWith(".ts") && !file.endsWith(".d.ts"))),
    ).toBe(false);
    const declarations = await readFile(join(client, "dist", "index.d.ts"), "utf8");
    expect(declarations).toMatch(/type AppRouter = typeof appRouter/);
    const imported = [...declarations.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    expect(new Set(imported)).toEqual(
      new Set(["@brook/shared", "@trpc/client", "@trpc/server", "@trpc/server/unstable-core-do-not-import", "zod"]),
    );
    expect(await readdir(join(shared, "dist"))).toEqual(expect.arrayContaining(["index.js", "index.d.ts"]));

    for (const [dir, name] of [
      [client, "client"],
      [shared, "shared"],
    ] as const) {
      const text = await readFile(join(dir, "package.json"), "utf8");
      const manifest = JSON.parse(text);
      expect(text).not.toContain("workspace:");
      // Only the workspace resolves @brook/source to sources; a package has none, and keeps every other condition.
      expect(text).not.toContain("@brook/source");
      const workspace = JSON.parse(await readFile(join(root, "packages", name, "package.json"), "utf8"));
      expect(manifest.exports).toEqual(withoutSourceCondition(workspace.exports));
      expect(manifest.exports["."]).toMatchObject({ types: "./dist/index.d.ts", default: "./dist/index.js" });
      expect(manifest.private).toBeUndefined();
      expect(manifest.engines.node).toBeDefined();
      expect(manifest.scripts?.prepack).toBeUndefined();
    }
    const clientManifest = JSON.parse(await readFile(join(client, "package.json"), "utf8"));
    const sharedManifest = JSON.parse(await readFile(join(shared, "package.json"), "utf8"));
    expect(clientManifest.dependencies["@brook/shared"]).toBe(sharedManifest.version);
    expect(clientManifest.dependencies["@brook/server"]).toBeUndefined();
    expect(clientManifest.bin).toEqual({ brook: "./bin/brook.js" });
  });

  it("typecheck in a strict consumer, and refuse wrong inputs on exactly the wrong lines", () => {
    // tsc's plain output: "file(line,column): error TSnnnn: text", with indented lines that go on with the text.
    const diagnostics: [file: string, line: string, text: string][] = [];
    for (const line of typecheck.stdout.split("\n")) {
      const start = /^(\S.*)\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
      if (start !== null) diagnostics.push([start[1] as string, start[2] as string, start[3] as string]);
      else if (/^\s/.test(line) && diagnostics.length > 0) (diagnostics.at(-1) as string[])[2] += ` ${line.trim()}`;
    }
    const wrongLines = wrongProgram
      .split("\n")
      .flatMap((line, index) => (line.endsWith("// wrong") ? [String(index + 1)] : []));
    expect(diagnostics.filter(([file]) => file !== "src/wrong.ts")).toEqual([]);
    expect([...new Set(diagnostics.map(([, line]) => line))]).toEqual(wrongLines);
    const byLine = (line: string) =>
      diagnostics
        .filter(([, at]) => at === line)
        .map(([, , text]) => text)
        .join(" ");
    expect(byLine(wrongLines[0] as string)).toMatch(/'string' is not assignable to type 'number'/);
    expect(byLine(wrongLines[1] as string)).toMatch(/Property 'message' is missing/);
    expect(typecheck.code).not.toBe(0);
  });

  it("stream an answer through the typed client and read a REST stream with readChatEvents", async () => {
    const result = await succeed("node", [join("out", "consumer.js")], {
      cwd: consumer,
      env: { ...machineEnv, BROOK_URL: brook.url },
    });
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({
      streamed: "Hello from the fake upstream.",
      health: "ok",
      mode: "openai",
      missing: "not_found",
      restText: "Hello from the fake upstream.",
      recipe: { title: 'the title "quoted", then more words', minutes: 12345 },
    });
    expect(output.partials).toBeGreaterThan(0);
    expect(output.types[0]).toBe("start");
    expect(output.types.at(-1)).toBe("complete");
    expect(output.restIds.every((id: unknown) => typeof id === "string" && /^[\w-]+:\d+$/.test(id))).toBe(true);
  });

  it("carry the JSON Schema of the events, which validates the events of real runs", async () => {
    // Found as the consumer finds it, through the package's exports.
    const resolve = 'console.log(import.meta.resolve("@brook/shared/chat-event.schema.json"))';
    const resolved = await succeed("node", ["--input-type=module", "-e", resolve], { cwd: consumer, env: machineEnv });
    const schema = JSON.parse(await readFile(fileURLToPath(resolved.stdout.trim()), "utf8"));
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

    const types = new Set<string>();
    for (const message of [fake({ reasoning: ["Thinking it over."], text: "The answer." }), fake({ cutAfter: 2 })]) {
      const response = await fetch(`${brook.url}/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message }),
      });
      for (const event of sseData(await response.text()).map((data) => JSON.parse(data))) {
        expect(validate(event) ? [] : validate.errors, JSON.stringify(event)).toEqual([]);
        types.add(event.type);
      }
    }
    expect([...types].sort()).toEqual(["complete", "content", "error", "reasoning", "start"]);
    // It refuses what Brook never sends, and lets a later Brook add fields.
    expect(validate({ type: "complete", full_content: "no usage" })).toBe(false);
    expect(validate({ type: "error", error: "x", code: "no_such_code", retryable: false, usage: {} })).toBe(false);
    expect(validate({ type: "content", chunk: "text", added_later: true })).toBe(true);
  });

  it("run the installed brook command", async () => {
    const npx = (args: string[]) => run("npx", ["--no", "--", "brook", ...args], { cwd: consumer, env: machineEnv });
    const manifest = JSON.parse(
      await readFile(join(consumer, "node_modules", "@brook", "client", "package.json"), "utf8"),
    );
    expect(await npx(["--version"])).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });

    const health = await npx(["health", "--url", brook.url]);
    expect(health.code).toBe(0);
    expect(health.stdout).toMatch(/status\s+ok · Brook \S+ at /);

    const chat = await npx(["chat", "--url", brook.url, "hello"]);
    expect(chat).toMatchObject({ code: 0, stdout: "Hello from the fake upstream.\n" });
    expect(chat.stderr).toMatch(/tokens \d+ in \/ \d+ out/);
  });
});
