// examples/ai-sdk/judge-with-language-model.mjs and langfuse-scores.mjs, run as a user runs them:
// @ai-sdk/anthropic reads its key and base URL from the environment and calls a local Messages-API
// server; scores go to a local server speaking Langfuse's score API. Runs under Node 22 too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../support/cli.js";
import { runExample } from "../support/examples.js";
import { startProviderServer, type ProviderServer } from "../support/provider-server.js";
import { startLangfuseServer } from "../support/langfuse-server.js";

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

  it("langfuse-scores.mjs judges records and posts each verdict to Langfuse's score API, once per score", async () => {
    const keys = { publicKey: "pk-lf-example-0a1b2c", secretKey: "sk-lf-secret-9f8e7d6c" };
    const langfuse = await startLangfuseServer(keys);
    try {
      server.requests.length = 0;
      const env = { ANTHROPIC_API_KEY: "example-key", ANTHROPIC_BASE_URL: server.anthropicURL, LANGFUSE_PUBLIC_KEY: keys.publicKey, LANGFUSE_SECRET_KEY: keys.secretKey, LANGFUSE_BASEURL: langfuse.url };
      const run = await runExample("examples/ai-sdk/langfuse-scores.mjs", ["anthropic:claude-haiku-4-5"], env);
      expect(run.code, run.stderr).toBe(0);
      const sent = [...langfuse.scores.entries()];
      expect(sent.map(([, s]) => [s.traceId, s.observationId])).toEqual([["trace-capital-fr", "gen-capital-fr"], ["trace-prime", "gen-prime"], ["trace-haiku", undefined]]);
      expect(server.requests).toHaveLength(3);
      for (const [id, score] of sent) {
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(score).toMatchObject({ id, name: "critic.prometheus-absolute", dataType: "NUMERIC", metadata: { model: "anthropic.messages:claude-haiku-4-5", template: "prometheus-absolute" } });
        // The verdict and feedback the judge wrote for this trace's record.
        const answer = server.requests.find((r) => r.prompt.includes(score.traceId === "trace-prime" ? "Name a prime number." : score.traceId === "trace-haiku" ? "haiku" : "capital of France"))!.answer!;
        expect(score.value).toBe(Number(/\[RESULT\] (\d)$/.exec(answer)![1]));
        expect(score.comment).toBe(/^Feedback: (.*) \[RESULT\]/.exec(answer)![1]);
      }
      expect(run.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(sent.map(([id]) => id));
      expect(run.stdout + run.stderr).not.toContain(keys.secretKey);
      // Sent again: the same ids, so Langfuse updates the scores instead of adding copies.
      const again = await runExample("examples/ai-sdk/langfuse-scores.mjs", ["anthropic:claude-haiku-4-5"], env);
      expect(again.code, again.stderr).toBe(0);
      expect(langfuse.requests.filter((r) => r.status === 200)).toHaveLength(6);
      expect(langfuse.scores.size).toBe(3);
    } finally {
      await langfuse.close();
    }
  });

  it("langfuse-scores.mjs reports each score Langfuse refuses and exits 1, never printing the keys", async () => {
    const langfuse = await startLangfuseServer({ publicKey: "pk-lf-example-0a1b2c", secretKey: "sk-lf-right-secret" });
    try {
      const env = { ANTHROPIC_API_KEY: "example-key", ANTHROPIC_BASE_URL: server.anthropicURL, LANGFUSE_PUBLIC_KEY: "pk-lf-example-0a1b2c", LANGFUSE_SECRET_KEY: "sk-lf-wrong-secret-77", LANGFUSE_BASEURL: langfuse.url };
      const run = await runExample("examples/ai-sdk/langfuse-scores.mjs", ["anthropic:claude-haiku-4-5"], env);
      expect(run.code).toBe(1);
      expect(run.stderr.match(/Langfuse did not take the score: HTTP 401: .*Invalid credentials/g)).toHaveLength(3);
      expect(langfuse.scores.size).toBe(0);
      expect(run.stdout + run.stderr).not.toContain("sk-lf-wrong-secret-77");
      // Without keys: says which to set, sends nothing.
      const none = await runExample("examples/ai-sdk/langfuse-scores.mjs", ["anthropic:claude-haiku-4-5"], { ...env, LANGFUSE_PUBLIC_KEY: "", LANGFUSE_SECRET_KEY: "" });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY");
      // Langfuse down: each score's failure is reported.
      await langfuse.close();
      const down = await runExample("examples/ai-sdk/langfuse-scores.mjs", ["anthropic:claude-haiku-4-5"], env);
      expect(down.code).toBe(1);
      expect(down.stderr.match(/cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/g)).toHaveLength(3);
    } finally {
      await langfuse.close().catch(() => {});
    }
  });

  it("opentelemetry.mjs puts the gen_ai.evaluation.result event in the evaluated span's trace, under it", async () => {
    server.requests.length = 0;
    const run = await runExample("examples/ai-sdk/opentelemetry.mjs", ["anthropic:claude-haiku-4-5"], { ANTHROPIC_API_KEY: "example-key", ANTHROPIC_BASE_URL: server.anthropicURL });
    expect(run.code, run.stderr).toBe(0);
    type Span = { name: string; traceId: string; spanId: string; parentSpanId?: string; events: Array<{ name: string; attributes: Record<string, unknown> }> };
    const spans = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Span);
    expect(spans.map((s) => s.name)).toEqual(["chat claude-haiku-4-5", "gen_ai.evaluation"]);
    const [generation, evaluation] = spans as [Span, Span];
    expect(evaluation.traceId).toBe(generation.traceId);
    expect(evaluation.parentSpanId).toBe(generation.spanId);
    const answer = server.requests[0]!.answer!;
    const score = Number(/\[RESULT\] (\d)$/.exec(answer)![1]);
    expect(evaluation.events).toEqual([{
      name: "gen_ai.evaluation.result",
      attributes: {
        "gen_ai.evaluation.name": "critic.prometheus-absolute",
        "gen_ai.evaluation.score.value": score,
        "gen_ai.evaluation.score.label": String(score),
        "gen_ai.evaluation.explanation": /^Feedback: (.*) \[RESULT\]/.exec(answer)![1],
      },
    }]);
    expect(generation.events).toEqual([]);
  });
});
