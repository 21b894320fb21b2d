import { readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { kendallTauB, pearson, spearman } from "./correlation.js";
import { metaEvalRecords, type JudgeSource } from "./meta-eval.js";
import { formatPValue, writeReport } from "./report.js";
import type { ScoreAgreement } from "./metrics.js";
import type { PairwiseAgreement } from "./pairwise.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.resolve(repoRoot, "../shared/data");

function source(name: string, records: Record<string, unknown>[]): JudgeSource {
  return { name, file: `${name}.jsonl`, records: () => records.map((record, index) => ({ index, line: index + 1, record })) };
}

describe("meta-eval on small hand-made judgments", () => {
  const records = [
    { id: "a", score: 5, gold: 5, task: "x", response: "long long long" },
    { id: "b", score: 4, gold: 5, task: "x", response: "long long" },
    { id: "c", score: 1, gold: 2, task: "y", response: "s" },
    { id: "d", score: null, error: "could not parse the score", gold: 3, task: "y", response: "mid" },
    { id: "e", score: 3, gold: null, task: "y", response: "mid" },
    { id: "f", score: "three", gold: 3, task: "y", response: "mid" },
    { id: "g", score: 2, gold: 1, task: "x", response: "ss" },
    { id: "h", score: 3, gold: 3, task: "y", response: "midd" },
  ];

  it("counts every row it cannot use and scores the rest", async () => {
    const r = await metaEvalRecords([source("j", records)], { gold: "gold", by: "task", bootstrap: 200, seed: 1 });
    const judge = r.judges[0]!;
    expect(r.kind).toBe("score");
    expect(judge.coverage).toMatchObject({ rows: 8, evaluated: 5, failedPrediction: 1, missingGold: 1, invalidPrediction: 1, missingPrediction: 0 });
    const m = judge.metrics as ScoreAgreement;
    const x = [5, 4, 1, 2, 3], y = [5, 5, 2, 1, 3];
    expect(m.pearson.value).toBeCloseTo(pearson({ x, y }).value!, 12);
    expect(m.kendallTau.value).toBeCloseTo(kendallTauB({ x, y }).value!, 12);
    expect(m.exactAgreement.value).toBeCloseTo(2 / 5, 12);
    expect(m.withinOne.value).toBe(1);
    expect(m.mae.value).toBeCloseTo(3 / 5, 12);
    expect(m.pearson.ci![0]).toBeLessThanOrEqual(m.pearson.value!);
    expect(m.pearson.ci![1]).toBeGreaterThanOrEqual(m.pearson.value!);
    expect(judge.problems.map((p) => [p.line, p.problem])).toEqual([[4, "failed"], [5, "missing"], [6, "invalid"]]);
    expect(judge.problems[0]!.note).toBe("could not parse the score");
    expect(judge.problems[2]!.note).toBe('score = "three" is not a number');
    expect(judge.groups!.map((g) => [g.group, g.coverage.rows, g.coverage.evaluated])).toEqual([["x", 3, 3], ["y", 5, 2]]);
    // Equal gaps: every one is listed (in a fixed shuffled order, not file order).
    expect(judge.disagreements.map((d) => d.line).sort((a, b) => a - b)).toEqual([2, 3, 7]);
    expect(r.notes.join("\n")).toMatch(/3 of 8 rows are not in the metrics \(1 failed predictions, 1 unreadable predictions, 1 without gold\)/);
    expect(judge.bias.length).toBeDefined();
    expect(judge.bias.scale!.judge.used).toBe(5);
  });

  it("the same seed gives the same intervals; another seed other ones", async () => {
    const run = (seed: number) => metaEvalRecords([source("j", records)], { gold: "gold", bootstrap: 300, seed });
    const [a, b, c] = await Promise.all([run(7), run(7), run(8)]);
    const m = (r: typeof a) => r.judges[0]!.metrics as ScoreAgreement;
    const ci = (r: typeof a) => [m(r).pearson.ci, m(r).spearman.ci, m(r).kendallTau.ci, m(r).mae.ci, m(r).quadraticKappa.ci];
    expect(ci(a)).toEqual(ci(b));
    expect(ci(a)).not.toEqual(ci(c));
  });

  it("constant predictions and empty input give reasons, never NaN, in metrics.json and the report", async () => {
    const constant = records.map((r) => ({ ...r, score: 3 }));
    const r = await metaEvalRecords([source("flat", constant), source("empty", [])].slice(0, 1), { gold: "gold", bootstrap: 50 });
    const m = r.judges[0]!.metrics as ScoreAgreement;
    expect(m.pearson).toEqual({ value: null, reason: "the judge's scores are all 3" });
    const empty = await metaEvalRecords([source("empty", [])], { gold: "gold", bootstrap: 50 });
    expect((empty.judges[0]!.metrics as ScoreAgreement).spearman.reason).toBe("needs at least 2 pairs, got 0");
    expect(empty.notes.join("\n")).toMatch(/the file has no rows/);
    const dir = await mkdtemp(path.join(tmpdir(), "critic-metaeval-"));
    await writeReport(r, dir);
    const md = await readFile(path.join(dir, "report.md"), "utf8");
    const json = await readFile(path.join(dir, "metrics.json"), "utf8");
    expect(md).toContain("n/a: the judge's scores are all 3");
    expect(md).not.toMatch(/NaN/);
    expect(json).not.toMatch(/NaN/);
    const emptyDir = await mkdtemp(path.join(tmpdir(), "critic-metaeval-"));
    await writeReport(empty, emptyDir);
    expect(await readFile(path.join(emptyDir, "report.md"), "utf8")).not.toMatch(/NaN/);
  });
});

describe("pairwise, several raters, several judges", () => {
  const rows = [
    { q: 1, winner: "A", r1: "A", r2: "A", r3: "B", cat: "math", response_a: "aaaa", response_b: "b" },
    { q: 2, winner: "B", r1: "B", r2: "B", r3: "B", cat: "math", response_a: "a", response_b: "bbbb" },
    { q: 3, winner: "tie", r1: "A", r2: "tie", r3: "A", cat: "code", response_a: "aa", response_b: "b" },
    { q: 4, winner: "A", r1: "B", r2: "A", r3: "tie", cat: "code", response_a: "a", response_b: "bb" },
    { q: 5, winner: null, error: "backend timeout", r1: "A", r2: "A", r3: "A", cat: "code", response_a: "a", response_b: "bb" },
    { q: 6, winner: "B", r1: "A", r2: "B", r3: "B", cat: "math", response_a: "aaa", response_b: "bb",
      judge: { samples: [{ swap: { original: "B", swapped: "B", consistent: true } }] } },
    { q: 7, winner: "tie", r1: "B", r2: "B", r3: "A", cat: "math", response_a: "aaa", response_b: "bb",
      judge: { samples: [{ swap: { original: "A", swapped: "B", consistent: false } }] } },
  ];

  it("majority gold, rater kappas, Fleiss, judge against each rater", async () => {
    const r = await metaEvalRecords([source("judge", rows)], { gold: ["r1", "r2", "r3"], bootstrap: 100 });
    expect(r.kind).toBe("pairwise");
    const judge = r.judges[0]!;
    // Row 4 has no majority (B, A, tie); row 5 failed: 5 rows evaluated.
    expect(judge.coverage).toMatchObject({ rows: 7, evaluated: 5, failedPrediction: 1, noMajorityGold: 1 });
    const m = judge.metrics as PairwiseAgreement;
    // gold (majority): A B A - B B ; judge: A B tie - B tie  => with ties 3/5, both decisive 3/3, decisive gold 3/5
    expect(m.accuracyWithTies.value).toBeCloseTo(3 / 5, 12);
    expect(m.accuracyWithoutTies.value).toBe(1);
    expect(m.accuracyDecisiveGold.value).toBeCloseTo(3 / 5, 12);
    expect(r.raters!.names).toEqual(["r1", "r2", "r3"]);
    expect(r.raters!.pairs.map((p) => `${p.a}-${p.b}`)).toEqual(["r1-r2", "r1-r3", "r2-r3"]);
    // r1 vs r2 agree on rows 1,2,5,7 of 7.
    expect(r.raters!.pairs[0]!.metrics.accuracyWithTies!.value).toBeCloseTo(4 / 7, 12);
    expect(r.raters!.fleiss.items).toBe(7);
    expect(judge.vsRaters!.map((p) => p.b)).toEqual(["gold", "r1", "r2", "r3"]);
    expect(judge.bias.position).toMatchObject({ pairs: 2, preferredFirst: 1, preferredSecond: 0 });
    expect(judge.bias.position!.consistency.value).toBe(0.5);
    // Longer response wins: judge's decisive verdicts rows 1 (A longer, A), 2 (B longer, B), 6 (A longer, B): 2/3.
    expect((judge.bias.length as { judgeLongerWins: { value: number } }).judgeLongerWins.value).toBeCloseTo(2 / 3, 12);
  });

  it("compares judges with a paired bootstrap and refuses files of different records", async () => {
    const better = rows.map((r) => ({ ...r, winner: r.r2 }));
    const r = await metaEvalRecords([source("base", rows), source("better", better)], { gold: ["r1", "r2", "r3"], bootstrap: 400, seed: 3 });
    const c = r.comparison!;
    expect(c.reference).toBe("base");
    expect(c.rows).toBe(5);
    expect(c.table[1]!.difference!.value).toBeCloseTo(c.table[1]!.value.value! - c.table[0]!.value.value!, 12);
    expect(c.table[1]!.difference!.pValue).not.toBeNull();
    const shuffled = [...rows].reverse();
    await expect(metaEvalRecords([source("base", rows), source("other", shuffled)], { gold: ["r1", "r2", "r3"], bootstrap: 0 })).rejects.toThrow(/gold .* differs/);
    const lined = await metaEvalRecords([source("base", rows), source("other", shuffled)], { gold: ["r1", "r2", "r3"], bootstrap: 0, id: "q" });
    expect(lined.comparison!.table[1]!.value.value).toBe(lined.comparison!.table[0]!.value.value);
  });
});

describe("real data: Prometheus MT-Bench eval, 3 GPT-4 samples per record as raters", () => {
  const records = JSON.parse(readFileSync(path.join(dataDir, "prometheus_eval/mt_bench_eval.json"), "utf8")) as Array<Record<string, unknown> & { gpt4_score: number[] }>;

  it("treats the list as 3 raters, averages them as gold, and scores a judge made of one sample", async () => {
    // The "judge" is GPT-4's first sample; gold is the mean of all three (so the judge is partly its own gold:
    // the point is the mechanics on real data, checked against direct computation).
    const judged = records.map((r) => ({ ...r, score: r.gpt4_score[0] }));
    const result = await metaEvalRecords([source("gpt4-sample-1", judged)], { gold: "gpt4_score", by: "category", bootstrap: 200, seed: 11 });
    const judge = result.judges[0]!;
    expect(judge.coverage).toMatchObject({ rows: 320, evaluated: 320 });
    const x = records.map((r) => r.gpt4_score[0]!);
    const y = records.map((r) => (r.gpt4_score[0]! + r.gpt4_score[1]! + r.gpt4_score[2]!) / 3);
    const m = judge.metrics as ScoreAgreement;
    expect(m.pearson.value).toBeCloseTo(pearson({ x, y }).value!, 12);
    expect(m.spearman.value).toBeCloseTo(spearman({ x, y }).value!, 12);
    expect(m.kendallTau.value).toBeCloseTo(kendallTauB({ x, y }).value!, 12);
    expect(result.raters!.names).toEqual(["gpt4_score[0]", "gpt4_score[1]", "gpt4_score[2]"]);
    expect(result.raters!.fleiss.items).toBe(320);
    expect(result.raters!.fleiss.value!).toBeGreaterThan(0.2);
    expect(judge.groups!.map((g) => g.group)).toEqual(["coding", "extraction", "humanities", "math", "reasoning", "roleplay", "stem", "writing"]);
    expect(judge.groups!.every((g) => g.coverage.rows === 40)).toBe(true);
    // The judge against rater 0 is itself: perfect agreement.
    expect(judge.vsRaters![1]!.metrics.exactAgreement!.value).toBe(1);

    const dir = await mkdtemp(path.join(tmpdir(), "critic-metaeval-real-"));
    const written = await writeReport(result, dir);
    expect(written.files).toEqual(expect.arrayContaining(["metrics.json", "report.md", "report.html", "charts/gpt4-sample-1-confusion.svg", "charts/gpt4-sample-1-confusion.png", "charts/gpt4-sample-1-by-category.png"]));
    const html = await readFile(path.join(dir, "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<img|src="http|<script/);
    const json = JSON.parse(await readFile(path.join(dir, "metrics.json"), "utf8")) as { judges: Array<{ metrics: { pearson: { value: number } } }> };
    expect(json.judges[0]!.metrics.pearson.value).toBeCloseTo(m.pearson.value!, 12);
    if (process.env.CRITIC_REPORT_DIR) await writeReport(result, process.env.CRITIC_REPORT_DIR);
  });
});

describe("the report as a person reads it (Prometheus MT-Bench eval: 3 GPT-4 samples as raters)", () => {
  const records = JSON.parse(readFileSync(path.join(dataDir, "prometheus_eval/mt_bench_eval.json"), "utf8")) as Array<Record<string, unknown> & { gpt4_score: number[] }>;
  const camelCase = /\b(kendallTau|exactAgreement|withinOne|quadraticKappa|accuracyWithTies|accuracyWithoutTies|accuracyDecisiveGold|macroPrecision|macroRecall|macroF1)\b/;

  it("names metrics as the report does in tables and chart titles, and prints a p below 0.001 as < 0.001", async () => {
    // A judge that reverses the scale: its difference from GPT-4's first sample is far outside every resample.
    const sample = records.map((r) => ({ ...r, score: r.gpt4_score[0] }));
    const reversed = records.map((r) => ({ ...r, score: 6 - r.gpt4_score[0]! }));
    const result = await metaEvalRecords([source("sample-1", sample), source("reversed", reversed)], { gold: "gpt4_score", by: "category", bootstrap: 1000, seed: 5 });
    expect(result.comparison!.table[1]!.difference!.pValue).toBe(0);
    const dir = await mkdtemp(path.join(tmpdir(), "critic-metaeval-names-"));
    await writeReport(result, dir);
    const md = await readFile(path.join(dir, "report.md"), "utf8");
    const html = await readFile(path.join(dir, "report.html"), "utf8");
    expect(md).toContain("| judge | Pearson r | 95% CI | difference vs sample-1 | 95% CI | p |");
    expect(md).toMatch(/\| reversed \| -[0-9.]+ \| \[[-0-9., ]+\] \| -[0-9.]+ \| \[[-0-9., ]+\] \| < 0\.001 \|/);
    expect(md).toContain("| category | rows | evaluated | not evaluated | Pearson r | Spearman ρ | Kendall τ-b | Exact agreement | Quadratic-weighted κ | Mean absolute error |");
    expect(md).not.toMatch(camelCase);
    expect(md).not.toMatch(/\| (pearson|spearman|mae) \|/);
    expect(html).toContain("<td>&lt; 0.001</td>");
    expect(html).not.toMatch(camelCase);
    expect(html).toContain(">Pearson r by judge (95% CI)<");
    expect(html).toContain(">Pearson r by category (95% CI)<");
    expect(html).not.toMatch(/>pearson( by|<)/);
    // p = 0 says only that p is below what the resamples can show.
    expect([formatPValue(0, 1000), formatPValue(0, 200), formatPValue(0.0004, 10000), formatPValue(0.012, 1000)]).toEqual(["< 0.001", "< 0.005", "< 0.001", "0.012"]);
  });

  it("says which series is constant, and what it is constant at", async () => {
    const flat = records.map((r) => ({ ...r, score: 4, gold: 5, score_distribution: { "3": 0.2, "4": 0.6, "5": 0.2 }, score_expected: 4 }));
    const result = await metaEvalRecords([source("flat", flat)], { gold: "gold", bootstrap: 0 });
    const judge = result.judges[0]!;
    expect((judge.metrics as ScoreAgreement).pearson.reason).toBe("the judge's scores are all 4 and the gold scores are all 5");
    expect(judge.confidence!.expected!.pearson.reason).toBe("the judge's expected scores are all 4 and the gold scores are all 5");
    const averaged = records.slice(0, 30).map((r, i) => ({ score: 1 + (i % 5), gold: [4, 5, 4] }));
    const mean = await metaEvalRecords([source("j", averaged)], { gold: "gold", bootstrap: 0 });
    expect((mean.judges[0]!.metrics as ScoreAgreement).kendallTau.reason).toBe("the gold scores are all 4.333");
    expect(mean.raters!.pairs[0]!.metrics.pearson!.reason).toBe("the scores of gold[0] are all 4 and the scores of gold[1] are all 5");
  });
});
