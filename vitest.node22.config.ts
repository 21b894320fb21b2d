import { defineConfig } from "vitest/config";

// The AI SDK paths under Node 22 (`ai` 7 and @ai-sdk/* declare node >= 22): run by .ci/run with the
// `node` package's Node 22 binary. Native addons in node_modules are built for the Node that ran
// `npm ci`: better-sqlite3 (the run store) loads only under that Node, so `*.embedded.test.ts` files,
// which use the store, stay out; node-llama-cpp's prebuilt binaries load under both, so the decision
// model over llama.cpp (decision-model.llama.test.ts) runs here too.
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
