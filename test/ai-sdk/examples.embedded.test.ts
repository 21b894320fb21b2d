// examples/ai-sdk/decide.mjs and scorer.mjs, run as a user runs them, on the tiny random GGUF model
// (real llama.cpp) with a run store: part of `npm test` (Node 20 native addons), not of the Node 22 run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel } from "../../src/gguf/tiny-model.js";
import { assertBuilt } from "../support/cli.js";
import { runExample } from "../support/examples.js";

let dir: string;
let model: string;
beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-ai-sdk-examples-"));
  model = await ensureTinyModel();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("examples/ai-sdk on the embedded judge", () => {
  it("decide.mjs answers score, choice and boolean questions through experimental_decide", async () => {
    const run = await runExample("examples/ai-sdk/decide.mjs", [model], { CRITIC_STORE: join(dir, "store.sqlite") });
    expect(run.code, run.stderr).toBe(0);
    const { answers, usage } = JSON.parse(run.stdout) as { answers: Record<string, { type: string; probabilities?: Record<string, number> }>; usage: { inputTokens: number } };
    expect(Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, a.type]))).toEqual({ helpfulness: "score", language: "choice", safe: "boolean" });
    expect(Object.keys(answers.helpfulness!.probabilities!)).toEqual(["0", "1", "2", "3", "4"]);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(run.stderr).toContain("helpfulness: prometheus-absolute");
  });

  it("scorer.mjs scores an output on [0, 1] with the feedback and the distribution", async () => {
    const run = await runExample("examples/ai-sdk/scorer.mjs", [model], { CRITIC_STORE: join(dir, "store.sqlite") });
    expect(run.code, run.stderr).toBe(0);
    const score = JSON.parse(run.stdout) as { score: number; metadata: { rawScore: number; distribution: Record<string, number> } };
    expect(score.score).toBe((score.metadata.rawScore - 1) / 4);
    expect(Object.keys(score.metadata.distribution)).toEqual(["1", "2", "3", "4", "5"]);
  });
});
