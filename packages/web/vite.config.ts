import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.BROOK_URL ?? "http://127.0.0.1:8081";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  // Workspace packages are bundled from their sources, so the UI builds without building them first.
  resolve: { conditions: ["@brook/source", "browser", "module", "import", "default"] },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `pnpm dev:web` serves the UI with hot reload and forwards API calls to a running Brook.
  server: {
    proxy: Object.fromEntries(
      ["/chat", "/trpc", "/health", "/stats", "/reset-stats", "/metrics"].map((path) => [path, api]),
    ),
  },
});
