// The three pipelines end to end on a real GGUF model run by llama.cpp: the tiny random llama writes
// gibberish, so these tests check structure, counts, grammar-constrained parsing and caching, not quality.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../backends/embedded.js";
import type { Backend, GenerateRequest } from "../backends/types.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { loadQuestionTypes } from "./assets.js";
import { makePairs } from "./pairs.js";
import { criticalQuestions } from "./questions.js";
import { revise, type ReviseRecord } from "./revise.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";

const jsonl = (name: string, rows: unknown[]): string => writeJsonl(join(dir, name), rows);

const dir = mkdtempSync(join(tmpdir(), "critic-pipelines-embedded-"));
let embedded: EmbeddedBackend;
/** The embedded backend, counting the requests that reach llama.cpp. */
let counted: Backend & { requests: GenerateRequest[] };

beforeAll(async () => {
  embedded = await createEmbeddedBackend({ modelPath: await ensureTinyModel(), parallel: 2, threads: TINY_MODEL_THREADS, contextSize: 2048 });
  const requests: GenerateRequest[] = [];
  counted = {
    kind: embedded.kind, model: embedded.model, concurrency: embedded.concurrency, requests,
    generate: (request) => {
      requests.push(request);
      return embedded.generate(request);
    },
    dispose: async () => {},
  };
});
afterAll(async () => {
  await embedded?.dispose();
});

const small = { params: { maxTokens: 24 }, judgeParams: { maxTokens: 48 }, progress: false as const };

describe("pipelines on the embedded tiny model", () => {
  it("revise: every step generated and scored under the grammar; acceptance follows the scores; a re-run pays nothing", async () => {
    const input = jsonl("prompts.jsonl", [{ prompt: "Write a review of a film." }, { prompt: "Tell me about my neighbour." }]);
    const output = join(dir, "revised.jsonl");
    const store = join(dir, "store.sqlite");
    const summary = await revise({ ...small, model: counted, input, output, store, principle: "positive-sentiment", steps: 1 });
    expect(summary).toMatchObject({ status: "finished", items: 2, written: 2 });
    expect(summary.judge.parseFailures).toBe(0);
    const rows = readJsonl<ReviseRecord>(output);
    for (const row of rows) {
      expect(row.principle).toBe("positive-sentiment");
      if (row.error !== undefined) {
        // Only an empty generation (after retries) may fail; it is recorded, never scored by default.
        expect(row.error).toMatch(/^generation failed/);
        expect(row.accepted).toBe(false);
        continue;
      }
      expect(row.chain).toHaveLength(2);
      for (const step of row.chain) {
        expect(step.response.length).toBeGreaterThan(0);
        expect([1, 2, 3, 4, 5]).toContain(step.score);
      }
      expect(row.chain[1]!.critique!.length).toBeGreaterThan(0);
      const improved = row.chain[1]!.score! > row.chain[0]!.score!;
      expect(row.accepted).toBe(improved);
      expect(row.chosen).toBe(improved ? row.chain[1]!.response : null);
      expect(row.rejected).toBe(improved ? row.chain[0]!.response : null);
    }
    const paid = counted.requests.length;
    const again = await revise({ ...small, model: counted, input, output: join(dir, "again.jsonl"), store, principle: "positive-sentiment" });
    expect(counted.requests.length).toBe(paid);
    expect(again.generation.cachedCalls).toBe(again.generation.calls);
    expect(again.judge.cachedCalls).toBe(again.judge.calls);
    expect(readJsonl(join(dir, "again.jsonl"))).toEqual(rows);
  });

  it("questions: generates one question per type, and classifies under a grammar over the type names", async () => {
    const input = jsonl("texts.jsonl", [{ id: "a", text: "We should ban cars in the centre because the air is bad." }]);
    const output = join(dir, "questions.jsonl");
    const generated = await criticalQuestions({ ...small, model: counted, input, output, types: "socratic", store: join(dir, "store.sqlite") });
    const socratic = loadQuestionTypes("socratic");
    expect(generated.written).toBe(socratic.types.length);
    const rows = readJsonl(output);
    expect(rows.map((r) => r.type)).toEqual(socratic.types.map((t) => t.name));

    const toClassify = jsonl("to-classify.jsonl", [
      { question: "What do you mean by bad air?", label: "clarity" },
      { question: "Why do you assume cars cause it?", label: "assumptions" },
    ]);
    const classified = join(dir, "classified.jsonl");
    const before = counted.requests.length;
    const summary = await criticalQuestions({ ...small, judge: counted, input: toClassify, output: classified, classify: true, gold: "label", store: join(dir, "store.sqlite") });
    const grammarCalls = counted.requests.slice(before);
    expect(grammarCalls.length).toBeGreaterThanOrEqual(2);
    expect(grammarCalls[0]!.constraint!.gbnf).toBe(`root ::= "clarity" | "assumptions" | "reasons_evidence" | "implication_consequences" | "alternate_viewpoints_perspectives"\n`);
    // The grammar allows only type names: every answer parses on the first attempt.
    expect(summary.stage).toMatchObject({ classified: 2, failed: 0 });
    expect(summary.stage.classification).toMatchObject({ items: 2, withGold: 2 });
    for (const row of readJsonl(classified)) {
      expect(socratic.types.map((t) => t.name)).toContain(row.predicted_type);
      expect(row.correct).toBe(row.predicted_type === row.label);
    }
  });

  it("pairs --degrade: every attempt recorded with a score; a pair only when the judge scored it lower", async () => {
    const input = jsonl("good.jsonl", [{ prompt: "Name a colour.", response: "Blue." }, { prompt: "Count to three.", response: "One, two, three." }]);
    const output = join(dir, "degraded.jsonl");
    const summary = await makePairs({ ...small, model: counted, input, output, from: "degrade", maxAttempts: 2, store: join(dir, "store.sqlite") });
    const stage = summary.stage;
    expect(stage.pairs + stage.exhausted).toBe(2);
    const pairs = stage.pairs > 0 ? readJsonl<Record<string, unknown> & { attempts: Array<{ score: number | null }> }>(output) : [];
    const failures = stage.exhausted > 0 ? readJsonl<Record<string, unknown> & { attempts: Array<{ score: number | null }> }>(summary.failuresFile!) : [];
    expect(pairs.length).toBe(stage.pairs);
    for (const pair of pairs) {
      expect(pair.source).toBe("degrade");
      expect(pair.chosen_score as number).toBeGreaterThan(pair.rejected_score as number);
      expect(pair.attempts.at(-1)!.score).toBe(pair.rejected_score);
      expect(pair.attempts.length).toBeLessThanOrEqual(2);
    }
    for (const failure of failures) expect(failure.attempts).toHaveLength(2);
    expect(stage.attempts).toBe([...pairs, ...failures].reduce((n, r) => n + r.attempts.length, 0));
  });
});
