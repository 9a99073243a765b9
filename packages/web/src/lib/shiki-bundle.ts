/**
 * The Shiki that `@streamdown/code` gets (vite.config.ts points its `shiki` import here): the
 * languages people paste into a chat and the two themes the UI uses, each grammar loaded the
 * first time a code block needs it. Shiki's full bundle would ship some 300 grammar and theme
 * files; a fence in any other language is shown as plain text.
 */
import type { BundledLanguageInfo, DynamicImportLanguageRegistration } from "shiki/core";
import { createBundledHighlighter } from "shiki/core";
import { createJavaScriptRegexEngine } from "shiki/engine/javascript";

type Language = Omit<BundledLanguageInfo, "import"> & { import: DynamicImportLanguageRegistration };

export const bundledLanguagesInfo: Language[] = [
  { id: "c", name: "C", import: () => import("@shikijs/langs/c") },
  { id: "cpp", name: "C++", aliases: ["c++"], import: () => import("@shikijs/langs/cpp") },
  { id: "csharp", name: "C#", aliases: ["c#", "cs"], import: () => import("@shikijs/langs/csharp") },
  { id: "css", name: "CSS", import: () => import("@shikijs/langs/css") },
  { id: "dart", name: "Dart", import: () => import("@shikijs/langs/dart") },
  { id: "diff", name: "Diff", import: () => import("@shikijs/langs/diff") },
  { id: "docker", name: "Dockerfile", aliases: ["dockerfile"], import: () => import("@shikijs/langs/docker") },
  { id: "elixir", name: "Elixir", import: () => import("@shikijs/langs/elixir") },
  { id: "go", name: "Go", import: () => import("@shikijs/langs/go") },
  { id: "graphql", name: "GraphQL", aliases: ["gql"], import: () => import("@shikijs/langs/graphql") },
  { id: "haskell", name: "Haskell", aliases: ["hs"], import: () => import("@shikijs/langs/haskell") },
  { id: "hcl", name: "HashiCorp HCL", aliases: ["terraform", "tf"], import: () => import("@shikijs/langs/hcl") },
  { id: "html", name: "HTML", import: () => import("@shikijs/langs/html") },
  { id: "ini", name: "INI", aliases: ["properties"], import: () => import("@shikijs/langs/ini") },
  { id: "java", name: "Java", import: () => import("@shikijs/langs/java") },
  {
    id: "javascript",
    name: "JavaScript",
    aliases: ["js", "cjs", "mjs"],
    import: () => import("@shikijs/langs/javascript"),
  },
  { id: "json", name: "JSON", import: () => import("@shikijs/langs/json") },
  { id: "jsonc", name: "JSON with Comments", aliases: ["json5"], import: () => import("@shikijs/langs/jsonc") },
  { id: "jsx", name: "JSX", import: () => import("@shikijs/langs/jsx") },
  { id: "kotlin", name: "Kotlin", aliases: ["kt", "kts"], import: () => import("@shikijs/langs/kotlin") },
  { id: "lua", name: "Lua", import: () => import("@shikijs/langs/lua") },
  { id: "make", name: "Makefile", aliases: ["makefile"], import: () => import("@shikijs/langs/make") },
  { id: "markdown", name: "Markdown", aliases: ["md"], import: () => import("@shikijs/langs/markdown") },
  { id: "nginx", name: "Nginx", import: () => import("@shikijs/langs/nginx") },
  { id: "objective-c", name: "Objective-C", aliases: ["objc"], import: () => import("@shikijs/langs/objective-c") },
  { id: "perl", name: "Perl", import: () => import("@shikijs/langs/perl") },
  { id: "php", name: "PHP", import: () => import("@shikijs/langs/php") },
  {
    id: "powershell",
    name: "PowerShell",
    aliases: ["ps", "ps1", "pwsh"],
    import: () => import("@shikijs/langs/powershell"),
  },
  { id: "proto", name: "Protocol Buffers", aliases: ["protobuf"], import: () => import("@shikijs/langs/proto") },
  { id: "python", name: "Python", aliases: ["py"], import: () => import("@shikijs/langs/python") },
  { id: "r", name: "R", import: () => import("@shikijs/langs/r") },
  { id: "ruby", name: "Ruby", aliases: ["rb"], import: () => import("@shikijs/langs/ruby") },
  { id: "rust", name: "Rust", aliases: ["rs"], import: () => import("@shikijs/langs/rust") },
  { id: "scala", name: "Scala", import: () => import("@shikijs/langs/scala") },
  { id: "scss", name: "SCSS", import: () => import("@shikijs/langs/scss") },
  {
    id: "shellscript",
    name: "Shell",
    aliases: ["bash", "sh", "shell", "zsh"],
    import: () => import("@shikijs/langs/shellscript"),
  },
  {
    id: "shellsession",
    name: "Shell Session",
    aliases: ["console"],
    import: () => import("@shikijs/langs/shellsession"),
  },
  { id: "sql", name: "SQL", import: () => import("@shikijs/langs/sql") },
  { id: "swift", name: "Swift", import: () => import("@shikijs/langs/swift") },
  { id: "toml", name: "TOML", import: () => import("@shikijs/langs/toml") },
  { id: "tsx", name: "TSX", import: () => import("@shikijs/langs/tsx") },
  {
    id: "typescript",
    name: "TypeScript",
    aliases: ["ts", "cts", "mts"],
    import: () => import("@shikijs/langs/typescript"),
  },
  { id: "xml", name: "XML", import: () => import("@shikijs/langs/xml") },
  { id: "yaml", name: "YAML", aliases: ["yml"], import: () => import("@shikijs/langs/yaml") },
  { id: "zig", name: "Zig", import: () => import("@shikijs/langs/zig") },
];

export const bundledLanguages: Record<string, DynamicImportLanguageRegistration> = Object.fromEntries(
  bundledLanguagesInfo.map((language) => [language.id, language.import]),
);

const bundledThemes = {
  "github-light": () => import("@shikijs/themes/github-light"),
  "github-dark": () => import("@shikijs/themes/github-dark"),
};

export const createHighlighter = createBundledHighlighter({
  langs: bundledLanguages,
  themes: bundledThemes,
  engine: () => createJavaScriptRegexEngine({ forgiving: true }),
});
