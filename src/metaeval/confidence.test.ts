import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { metaEval } from "./meta-eval.js";
import { writeReport } from "./report.js";

// Six 1-3 judgments with distributions, gold by hand.
const rows = [
  { score: 3, gold: 3, score_distribution: { "1": 0, "2": 0.1, "3": 0.9 }, score_expected: 2.9 },
  { score: 3, gold: 2, score_distribution: { "1": 0, "2": 0.2, "3": 0.8 }, score_expected: 2.8 },
  { score: 2, gold: 2, score_distribution: { "1": 0.1, "2": 0.6, "3": 0.3 }, score_expected: 2.2 },
  { score: 1, gold: 1, score_distribution: { "1": 0.55, "2": 0.45, "3": 0 }, score_expected: 1.45 },
  { score: 2, gold: 1, score_distribution: { "1": 0.45, "2": 0.55, "3": 0 }, score_expected: 1.55 },
  { score: 2, gold: 3 }, // no distribution: in the metrics, not in the confidence section
];

describe("meta-eval reads the judge's own probabilities", () => {
  it("expected-score correlation, ECE by hand, coverage vs accuracy, and their report section and charts", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-conf-"));
    const file = path.join(dir, "j.jsonl");
    await writeFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const result = await metaEval({ files: [file], gold: "gold", bootstrap: 0 });
    const c = result.judges[0]!.confidence!;
    expect(c.rows).toBe(5);
    // Confidences 0.9 (right), 0.8 (wrong), 0.6 (right), 0.55 (right), 0.55 (wrong).
    // Bins: [0.5,0.6): 0.55, 0.55 -> acc 0.5, conf 0.55; [0.6,0.7): 0.6 -> 1; [0.8,0.9): 0.8 -> 0; [0.9,1]: 0.9 -> 1.
    const ece = (2 / 5) * Math.abs(0.5 - 0.55) + (1 / 5) * Math.abs(1 - 0.6) + (1 / 5) * Math.abs(0 - 0.8) + (1 / 5) * Math.abs(1 - 0.9);
    expect(c.ece.value).toBeCloseTo(ece, 12);
    expect(c.accuracy).toBeCloseTo(3 / 5, 12);
    expect(c.bins.map((b) => b.n)).toEqual([2, 1, 1, 1]);
    expect(c.coverage.find((p) => p.threshold === 0.7)).toMatchObject({ n: 2, coverage: 0.4, accuracy: 0.5 });
    expect(c.coverage.find((p) => p.threshold === 0.9)).toMatchObject({ n: 1, accuracy: 1 });
    expect(c.expected!.pearson.value).toBeGreaterThan(0.5);
    expect(c.expected!.scorePearson.value).not.toBeNull();

    const written = await writeReport(result, path.join(dir, "report"));
    const md = readFileSync(path.join(written.dir, "report.md"), "utf8");
    expect(md).toContain("Confidence (from the judge's score / winner distributions)");
    expect(md).toMatch(/Expected calibration error \(10 equal-width bins\): 0\.2/);
    expect(md).toContain("| 0.700 | 2 | 0.400 | 0.500 |");
    const charts = readFileSync(path.join(written.dir, "report.html"), "utf8");
    expect(charts).toContain("Reliability");
    expect(existsSync(path.join(written.dir, "charts"))).toBe(true);
  });

  it("judgments without distributions give no confidence section", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-conf-"));
    const file = path.join(dir, "j.jsonl");
    await writeFile(file, rows.map(({ score, gold }) => JSON.stringify({ score, gold })).join("\n") + "\n");
    const result = await metaEval({ files: [file], gold: "gold", bootstrap: 0 });
    expect(result.judges[0]!.confidence).toBeUndefined();
  });

  it("reports what the judgments cost when they carry judge.cost_usd (critic judge --price)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-conf-"));
    const file = path.join(dir, "j.jsonl");
    await writeFile(file, [0.002, 0.004, 0.003].map((cost, i) => JSON.stringify({ score: i + 1, gold: i + 1, judge: { cost_usd: cost } })).join("\n") + "\n");
    const result = await metaEval({ files: [file], gold: "gold", bootstrap: 0 });
    expect(result.judges[0]!.cost!.totalUsd).toBeCloseTo(0.009, 12);
    expect(result.judges[0]!.cost!.perJudgmentUsd).toBeCloseTo(0.003, 12);
    const written = await writeReport(result, path.join(dir, "report"));
    expect(readFileSync(path.join(written.dir, "report.md"), "utf8")).toContain("$0.0090 for 3 judgments, $0.003000 per judgment");
  });
});
