import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
// Read from the shared package's source: Vite loads its config before anything is built.
import { type RouteSpec, routes } from "../shared/src/routes.ts";

const api = process.env.BROOK_URL ?? "http://127.0.0.1:8081";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  // Workspace packages are bundled from their sources, so the UI builds without building them first.
  resolve: { conditions: ["@brook/source", "browser", "module", "import", "default"] },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `pnpm dev:web` serves the UI with hot reload and forwards every API route to a running Brook.
  server: {
    proxy: Object.fromEntries(
      (Object.values(routes) as RouteSpec[]).filter((route) => !route.page).map((route) => [route.path, api]),
    ),
  },
});
