import { defineConfig } from "vitest/config";

// The AI SDK paths under Node 22 (`ai` 7 and @ai-sdk/* declare node >= 22): run by .ci/run with the
// `node` package's Node 22 binary. Native addons in node_modules are built for the Node that ran
// `npm ci`, so these files use neither the run store (better-sqlite3) nor the embedded model.
export default defineConfig({
  test: {
    include: ["src/backends/ai-sdk.test.ts", "src/ai-sdk/**/*.test.ts", "test/ai-sdk/**/*.test.ts"],
    exclude: ["**/*.embedded.test.ts", "**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
