import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { compression } from "vite-plugin-compression2";
// Read from the shared package's source: Vite loads its config before anything is built.
import { type RouteSpec, routes } from "../shared/src/routes.ts";

const api = process.env.BROOK_URL ?? "http://127.0.0.1:8081";

export default defineConfig({
  plugins: [
    react(),
    tailwindcss(),
    // A .br and a .gz beside each script and style sheet (Brook serves them to browsers that accept
    // them); files under 1 KB gain nothing from it.
    compression({ include: /\.(js|css)$/, threshold: 1024, algorithms: ["brotliCompress", "gzip"] }),
  ],
  // Workspace packages are bundled from their sources, so the UI builds without building them first.
  resolve: {
    conditions: ["@brook/source", "browser", "module", "import", "default"],
    // `@streamdown/code` highlights with a Shiki of the common languages only (see the file).
    alias: [{ find: /^shiki$/, replacement: fileURLToPath(new URL("./src/lib/shiki-bundle.ts", import.meta.url)) }],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // @brook/shared only defines schemas: what the UI does not use (zod with it) is left out.
      treeshake: { moduleSideEffects: [{ test: /[\\/]packages[\\/]shared[\\/]src[\\/]/, sideEffects: false }] },
    },
  },
  // `pnpm dev:web` serves the UI with hot reload and forwards every API route to a running Brook.
  server: {
    proxy: Object.fromEntries(
      (Object.values(routes) as RouteSpec[]).filter((route) => !route.page).map((route) => [route.path, api]),
    ),
  },
});
