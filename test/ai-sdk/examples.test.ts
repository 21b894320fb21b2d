// examples/ai-sdk/judge-with-language-model.mjs, run as a user runs it: @ai-sdk/anthropic reads its
// key and base URL from the environment and calls a local Messages-API server. Runs under Node 22 too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../support/cli.js";
import { runExample } from "../support/examples.js";
import { startProviderServer, type ProviderServer } from "../support/provider-server.js";

let server: ProviderServer;
beforeAll(async () => {
  assertBuilt();
  server = await startProviderServer();
});
afterAll(async () => server?.close());

describe("examples/ai-sdk", () => {
  it("judge-with-language-model.mjs judges records with an Anthropic model", async () => {
    const run = await runExample("examples/ai-sdk/judge-with-language-model.mjs", [], { ANTHROPIC_API_KEY: "example-key", ANTHROPIC_BASE_URL: server.anthropicURL });
    expect(run.code, run.stderr).toBe(0);
    const scores = run.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { score: number }).score);
    const answered = server.requests.map((r) => Number(/\[RESULT\] (\d)$/.exec(r.answer!)![1]));
    expect(scores.sort()).toEqual(answered.sort());
    expect(scores).toHaveLength(2);
  });
});
