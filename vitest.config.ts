import { defineConfig } from "vitest/config";

export default defineConfig({
  // Node tests import workspace packages from their sources, not from dist.
  ssr: { resolve: { conditions: ["@brook/source", "module", "node", "development|production"] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["packages/*/src/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          // Brings what the tests need from the machine (redis-server) on a fresh one.
          globalSetup: ["test/support/global-setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "types",
          typecheck: { enabled: true, only: true, include: ["test/**/*.test-d.ts"], tsconfig: "./test/tsconfig.json" },
        },
      },
    ],
  },
});
