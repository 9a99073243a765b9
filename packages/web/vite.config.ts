import { defineConfig } from "vite";

const api = process.env.BROOK_URL ?? "http://127.0.0.1:8081";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true },
  // `pnpm dev` serves the UI with hot reload and forwards API calls to a running Brook.
  server: {
    proxy: Object.fromEntries(
      ["/chat", "/trpc", "/health", "/stats", "/reset-stats", "/metrics"].map((path) => [path, api]),
    ),
  },
});
