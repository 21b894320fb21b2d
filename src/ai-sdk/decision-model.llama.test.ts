// The decision model over the embedded backend (real llama.cpp on the tiny random model), answered
// through the real `ai` package's experimental_decide, which checks sums and means itself. No run
// store here (better-sqlite3 is built for the Node that ran `npm ci`), so these run under Node 20 and,
// in `npm run test:node22`, under Node 22 too; the store path is decision-model.embedded.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimental_decide, Experimental_DecisionRefusalError } from "ai";
import { createEmbeddedBackend, getTemplate, loadRubric, renderPrompt, startServer, type Backend } from "../index.js";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { createTinyPackage } from "../heads/tiny-package.js";
import { criticDecisionModel } from "./index.js";
import { compileQuestion } from "./questions.js";

const LEVELS = ["Not helpful at all.", "Barely helpful.", "Somewhat helpful.", "Helpful.", "Fully helpful and correct."];
const RECORD = { instruction: "What is the capital of France?", response: "Paris is the capital of France." };

describe("criticDecisionModel over the embedded backend", () => {
  let backend: Backend;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "critic-decide-"));
    backend = await createEmbeddedBackend({ modelPath: await ensureTinyModel(), parallel: 2, threads: TINY_MODEL_THREADS, contextSize: 2048, gpu: false });
  });
  afterAll(async () => {
    await backend?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders a 5-level score question on an instruction-response record as the published Prometheus prompt", () => {
    const compiled = compileQuestion("q", { type: "score", instructions: "Is the answer helpful?", criteria: LEVELS }, [{ type: "json", value: RECORD }], { maxTokens: 256 });
    const rubric = { criteria: "Is the answer helpful?", score1_description: LEVELS[0]!, score2_description: LEVELS[1]!, score3_description: LEVELS[2]!, score4_description: LEVELS[3]!, score5_description: LEVELS[4]! };
    expect(compiled.grader.buildMessages(compiled.record)).toEqual(renderPrompt(getTemplate("prometheus-absolute"), RECORD, rubric));
    expect(compiled.grader.template).toBe("prometheus-absolute");
  });

  it("answers score, choice and boolean questions with exact distributions that experimental_decide accepts", async () => {
    const model = criticDecisionModel(backend, { store: false });
    try {
      const result = await experimental_decide({
        model,
        state: [{ type: "text", text: "User: What is 2+2?\nAssistant: 4." }],
        questions: {
          quality: { type: "score", instructions: "How correct is the answer?", criteria: ["Wrong.", "Partly right.", "Right."] },
          topic: { type: "choice", instructions: "What is the conversation about?", criteria: { math: "Arithmetic.", travel: null, cooking: "Recipes." } },
          safe: { type: "boolean", instructions: "Is the answer safe?", criteria: { true: "Harmless.", false: null } },
        },
        maxOutputTokens: 96,
      });
      const { quality, topic, safe } = result.answers;
      expect(quality!.type).toBe("score");
      if (quality!.type !== "score") throw new Error("unreachable");
      expect(Object.keys(quality!.probabilities!)).toEqual(["0", "1", "2"]);
      const mean = Object.entries(quality!.probabilities!).reduce((s, [k, p]) => s + Number(k) * p, 0);
      expect(quality!.score).toBeCloseTo(mean, 9);
      expect(topic!.type).toBe("choice");
      if (topic!.type !== "choice") throw new Error("unreachable");
      expect(Object.keys(topic!.probabilities!).sort()).toEqual(["cooking", "math", "travel"]);
      expect(safe!.type).toBe("boolean");
      expect(result.usage.inputTokens).toBeGreaterThan(100);
      expect(result.usage.outputTokens).toBeGreaterThan(0);
      const meta = result.providerMetadata!.critic as { backend: string; questions: Record<string, { raw: string; template: string; cached: boolean }> };
      expect(meta.backend).toBe("embedded");
      expect(meta.questions.quality!.raw).toMatch(/\[RESULT\] [123]$/);
      expect(meta.questions.topic!.template).toBe("critic-decision-choice-3");
      expect(meta.questions.safe!.raw).toMatch(/\[RESULT\] [01]$/);

    } finally {
      await model.dispose();
    }
  });

  it("answers a 5-level score on a record with the Prometheus prompt, and takes a template and rubric", async () => {
    const model = criticDecisionModel(backend, { store: false });
    const question = { type: "score" as const, instructions: "Is the answer helpful?", criteria: LEVELS };
    const result = await experimental_decide({ model, state: RECORD, questions: { helpful: question }, maxOutputTokens: 96 });
    const answer = result.answers.helpful!;
    if (answer.type !== "score") throw new Error(`expected a score, got ${answer.type}`);
    expect(Object.keys(answer.probabilities!)).toEqual(["0", "1", "2", "3", "4"]);
    const meta = (result.providerMetadata!.critic as { questions: Record<string, { template: string; raw: string }> }).questions.helpful!;
    expect(meta.template).toBe("prometheus-absolute");

    // A rubric replaces the question's level descriptions; a template's scale must have the question's levels.
    const compiled = compileQuestion("q", question, [{ type: "json", value: RECORD }], { rubric: "helpfulness", maxTokens: 96 });
    expect(compiled.grader.template).toBe("prometheus-absolute");
    expect(JSON.stringify(compiled.grader.buildMessages(compiled.record))).toContain(JSON.stringify(loadRubric("helpfulness").score5_description).slice(1, -1));
    expect(() => compileQuestion("q", question, [{ type: "json", value: RECORD }], { template: "criticon", maxTokens: 96 })).toThrow('question "q": template "criticon" has 10 score levels, the question 5');
    const tenLevels = { type: "score" as const, criteria: Array.from({ length: 10 }, (_, i) => `Level ${i + 1}.`) };
    const withTemplate = criticDecisionModel(backend, { store: false, template: "criticon" });
    const templated = await experimental_decide({ model: withTemplate, state: RECORD, questions: { helpful: tenLevels }, maxOutputTokens: 96 });
    const ten = templated.answers.helpful!;
    if (ten.type !== "score") throw new Error(`expected a score, got ${ten.type}`);
    expect(Object.keys(ten.probabilities!)).toHaveLength(10);
    expect((templated.providerMetadata!.critic as { questions: Record<string, { raw: string }> }).questions.helpful!.raw).toMatch(/\[SCORE\] (10|[1-9])$/);
  });

  it("refuses when the output never parses, keeping the raw outputs, and experimental_decide raises a refusal", async () => {
    // Three tokens cannot hold a feedback and a verdict: every attempt is cut off.
    const model = criticDecisionModel(backend, { store: false, maxRetries: 1 });
    const questions = { helpful: { type: "score" as const, instructions: "Is it helpful?", criteria: ["No.", "Yes."] } };
    const direct = await model.doDecide({ state: [{ type: "text", text: "Paris." }], questions, maxOutputTokens: 3 });
    expect(direct.answers.helpful).toEqual({ type: "refusal" });
    const meta = (direct.providerMetadata!.critic as { questions: Record<string, { error: string; raw: string; failures: string[] }> }).questions.helpful!;
    expect(meta.error).toMatch(/unparseable judge output after 2 attempt/);
    expect(meta.raw.length).toBeGreaterThan(0);
    expect(meta.failures.length).toBeGreaterThan(0);
    await expect(experimental_decide({ model, state: "Paris.", questions, maxOutputTokens: 3 })).rejects.toBeInstanceOf(Experimental_DecisionRefusalError);
  });

  it("opens a model spec itself and names what it cannot judge", async () => {
    const model = criticDecisionModel(await ensureTinyModel(), { store: false, contextSize: 1024, parallel: 1, gpu: false, threads: TINY_MODEL_THREADS });
    try {
      const result = await experimental_decide({ model, state: "The sky is green.", questions: { true: { type: "boolean", instructions: "Is the statement true?" } }, maxOutputTokens: 64 });
      expect(result.answers.true!.type).toBe("boolean");
      expect((await model.backend()).kind).toBe("embedded");
      await expect(model.doDecide({ state: [{ type: "file", mediaType: "image/png", data: { type: "data", data: new Uint8Array([1]) } }], questions: { x: { type: "boolean", instructions: "ok?" } } } as never))
        .rejects.toThrow(/question "x": state part 0: critic judges text and JSON state/);
    } finally {
      await model.dispose();
    }
  });

  it("judges through critic serve as an OpenAI-compatible server (openai:<name>), the grammar sent with each call", async () => {
    const server = await startServer({ backend, modelName: "tiny-judge", host: "127.0.0.1", port: 0 });
    const model = criticDecisionModel("openai:tiny-judge", { baseURL: `${server.url}/v1`, sendGrammar: true, store: false });
    try {
      const result = await experimental_decide({
        model, state: "User: 2+2?\nAssistant: 4.",
        questions: { correct: { type: "boolean", instructions: "Is the answer correct?" }, level: { type: "score", criteria: ["Bad.", "Good."] } },
        maxOutputTokens: 64,
      });
      // critic serve returns no logprobs: the verdict the judge wrote, no distribution.
      expect(result.answers.correct!.type).toBe("boolean");
      const level = result.answers.level!;
      if (level.type !== "score") throw new Error(`expected a score, got ${level.type}`);
      expect([0, 1]).toContain(level.score);
      expect(level.probabilities).toBeUndefined();
      const meta = result.providerMetadata!.critic as { backend: string; questions: Record<string, { raw: string }> };
      expect(meta.backend).toBe("openai");
      expect(meta.questions.correct!.raw).toMatch(/\[RESULT\] [01]$/);
    } finally {
      await model.dispose();
      await server.close();
    }
  });

  it("a classifier judge package answers a 5-level score question in one forward pass, its softmax as the distribution", async () => {
    const pkg = join(dir, "classifier-package");
    await createTinyPackage(pkg, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "classify" });
    const model = criticDecisionModel(pkg, { store: false, threads: TINY_MODEL_THREADS });
    try {
      const result = await experimental_decide({ model, state: [{ type: "json", value: RECORD }], questions: { helpful: { type: "score", instructions: "Is the answer helpful?", criteria: LEVELS } } });
      const helpful = result.answers.helpful!;
      if (helpful.type !== "score") throw new Error(`expected a score, got ${helpful.type}`);
      const probabilities = Object.values(helpful.probabilities ?? {});
      expect(probabilities).toHaveLength(5);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const meta = result.providerMetadata!.critic as { backend: string; questions: Record<string, { raw: string | null; feedback: string | null }> };
      expect(meta.backend).toBe("embedded-head");
      expect(meta.questions.helpful!.feedback).toBeNull();
      // What it was not trained to answer is refused with the reason, not guessed.
      await expect(experimental_decide({ model, state: [{ type: "json", value: RECORD }], questions: { safe: { type: "boolean", instructions: "Is it safe?" } } })).rejects.toThrow(/classifier\/regression judge scores 5-level score questions/);
    } finally {
      await model.dispose();
    }
  });
});
