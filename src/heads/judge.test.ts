import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { judge, judgeRecords } from "../judge/judge.js";
import { createTinyPackage } from "./tiny-package.js";
import { pairVerdict } from "./spec.js";
import { openHeadRun } from "./run.js";

const rows = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);

describe("critic judge with a judge package (embedded head, real llama.cpp)", () => {
  let tmp: string;
  let pkg: string;
  const common = () => ({ model: pkg, rubric: "helpfulness", threads: TINY_MODEL_THREADS, contextSize: 1024, gpu: false as const, progress: false, store: join(tmp, "store.sqlite") });

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "critic-head-judge-"));
    pkg = join(tmp, "classifier-judge");
    await createTinyPackage(pkg, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "classify" });
    writeFileSync(join(tmp, "abs.jsonl"), [
      { id: 1, instruction: "What is 2+2?", response: "4" },
      { id: 2, instruction: "Name a colour.", response: "Blue." },
      { id: 3, instruction: "Capital of France?", response: "Paris is the capital." },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(tmp, "pair.jsonl"), [
      { id: "p1", instruction: "What is 2+2?", response_a: "4", response_b: "5" },
      { id: "p2", instruction: "Name a colour.", response_a: "Blue.", response_b: "Blue." },
      { id: "p3", instruction: "Capital of France?", response_a: "Paris." },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n");
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("absolute: score (argmax), score_distribution (softmax), score_expected, no feedback and says so; a re-run comes from the store", async () => {
    const out = join(tmp, "abs-out.jsonl");
    const summary = await judge({ ...common(), input: join(tmp, "abs.jsonl"), output: out });
    expect(summary).toMatchObject({ status: "finished", judged: 3, failed: 0, calls: 3, cachedCalls: 0 });
    const first = rows(out);
    for (const j of first) {
      expect(j.feedback).toBeNull();
      expect(j.judge.head.note).toMatch(/no feedback text/);
      expect(j.judge).toMatchObject({ backend: "embedded-head", template: "prometheus-absolute", raw: null, cached: false, calls: 1, tokens: { completion: 0 } });
      expect(j.judge.tokens.prompt).toBeGreaterThan(50);
      const d = j.score_distribution as Record<string, number>;
      expect(Object.keys(d)).toEqual(["1", "2", "3", "4", "5"]);
      expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const argmax = Object.entries(d).sort((a, b) => b[1] - a[1])[0]![0];
      expect(j.score).toBe(Number(argmax));
      expect(j.score_expected).toBeCloseTo(Object.entries(d).reduce((s, [k, p]) => s + Number(k) * p, 0), 3);
    }
    const again = await judge({ ...common(), input: join(tmp, "abs.jsonl"), output: join(tmp, "abs-out2.jsonl") });
    expect(again).toMatchObject({ judged: 3, calls: 3, cachedCalls: 3, paidPromptTokens: 0 });
    const second = rows(join(tmp, "abs-out2.jsonl"));
    expect(second.map((j) => j.score_distribution)).toEqual(first.map((j) => j.score_distribution));
    expect(second.every((j) => j.judge.cached)).toBe(true);
  });

  it("--parallel reaches the package's context: three sequences, the judgments of one", async () => {
    const run = await openHeadRun(pkg, { ...common(), parallel: 3 });
    expect(run.head.concurrency).toBe(3);
    expect(run.head.settings).toMatch(/parallel 3 \(--parallel\)/);
    await run.head.dispose();
    const one = join(tmp, "p1.jsonl"), three = join(tmp, "p3.jsonl");
    await judge({ ...common(), store: join(tmp, "p1.sqlite"), input: join(tmp, "abs.jsonl"), output: one });
    const summary = await judge({ ...common(), store: join(tmp, "p3.sqlite"), parallel: 3, input: join(tmp, "abs.jsonl"), output: three });
    expect(summary).toMatchObject({ judged: 3, failed: 0, cachedCalls: 0 });
    const [a, b] = [rows(one), rows(three)];
    // Same scores; logits equal up to llama.cpp's batch-layout noise: on these ~400-token prompts the
    // tiny model's hidden state moves by up to ~2e-3 when the last token is decoded alone, and as much
    // at parallel 1 with a batch size of 64 (embedded.test.ts checks 1e-4 on short prompts).
    a.forEach((j, i) => {
      expect(b[i]!.score).toBe(j.score);
      (j.judge.head.logits as number[]).forEach((l, k) => expect(Math.abs(b[i]!.judge.head.logits[k] - l)).toBeLessThan(0.02));
    });
  });

  it("pairwise: each side scored alone, PHUDGE's tie rule, a record missing a side rejected with its line and field", async () => {
    const out = join(tmp, "pair-out.jsonl");
    const summary = await judge({ ...common(), mode: "pairwise", input: join(tmp, "pair.jsonl"), output: out });
    expect(summary).toMatchObject({ judged: 2, rejected: 1, failed: 0 });
    const judged = rows(out);
    for (const j of judged) {
      const { A, B } = j.judge.head.scores as { A: number; B: number };
      expect(j.winner).toBe(pairVerdict(A, B));
      expect(j.judge.calls).toBe(2);
      expect(Object.values(j.winner_distribution as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    // The same response on both sides: the same prompt, the same score, a tie.
    expect(judged[1]!.winner).toBe("tie");
    const reject = rows(summary.rejects!)[0]!;
    expect(reject).toMatchObject({ line: 3, field: "response_b" });
  });

  it("--swap and --samples are refused: one pass per side, nothing to swap or sample", async () => {
    await expect(judge({ ...common(), mode: "pairwise", swap: true, input: join(tmp, "pair.jsonl"), output: join(tmp, "x.jsonl") })).rejects.toThrow(/--swap is meaningless/);
    await expect(judge({ ...common(), samples: 3, input: join(tmp, "abs.jsonl"), output: join(tmp, "y.jsonl") })).rejects.toThrow(/--samples is meaningless/);
  });

  it("judgeRecords (the library) yields the same judgments in input order, a bad record as an error", async () => {
    const got = [];
    for await (const j of judgeRecords([{ instruction: "What is 2+2?", response: "4" }, { instruction: "no response" }, { instruction: "Name a colour.", response: "Blue." }], { model: pkg, rubric: "helpfulness", threads: TINY_MODEL_THREADS, contextSize: 1024, gpu: false })) got.push(j);
    expect(got.map((j) => j.score === null)).toEqual([false, true, false]);
    expect(got[1]!.error).toMatch(/record 2: .*response/);
    const file = rows(join(tmp, "abs-out.jsonl"));
    expect(got[0]!.score_distribution).toEqual(file[0]!.score_distribution);
  });

  it("judgeRecords with several models: the package and the embedded tiny generative judge as a jury, each juror as alone, cached per juror", async () => {
    const records = [{ instruction: "What is 2+2?", response: "4" }, { instruction: "Name a colour.", response: "Blue." }];
    const options = { model: [pkg, await ensureTinyModel()], rubric: "helpfulness", threads: TINY_MODEL_THREADS, contextSize: 1024, gpu: false as const, params: { maxTokens: 48 }, jury: "median" as const, store: join(tmp, "jury.sqlite") };
    const got = [];
    for await (const j of judgeRecords(records, options)) got.push(j);
    const file = rows(join(tmp, "abs-out.jsonl"));
    for (const [i, j] of got.entries()) {
      const [head, generative] = j.judge.jury!.jurors;
      // The head as it judges alone (the same prompt, so the same distribution as the run above).
      expect(head).toMatchObject({ backend: "embedded-head", score: file[i]!.score, score_distribution: file[i]!.score_distribution, feedback: null });
      expect((head!.head as { note: string }).note).toMatch(/no feedback text/);
      expect(generative).toMatchObject({ backend: "embedded", feedback: expect.any(String) });
      expect(generative!.template).toBeUndefined(); // the run's template, prometheus-absolute
      expect(generative!.score).toBeGreaterThanOrEqual(1);
      expect(generative!.score).toBeLessThanOrEqual(5);
      expect(j.score).toBe((head!.score! + generative!.score!) / 2);
      expect(j.judge).toMatchObject({ backend: "jury", template: "prometheus-absolute", calls: 2 });
    }
    const again = [];
    for await (const j of judgeRecords(records, options)) again.push(j);
    expect(again.every((j) => j.judge.cached)).toBe(true);
    expect(again.map((j) => j.judge.jury!.jurors.map((x) => x.score))).toEqual(got.map((j) => j.judge.jury!.jurors.map((x) => x.score)));
  });
});
