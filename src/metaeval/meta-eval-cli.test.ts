import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { registerMetaEval } from "../cli/meta-eval.js";
import { metaEval } from "./meta-eval.js";
import type { PairwiseAgreement } from "./pairwise.js";
import type { MetaEvalResult } from "./meta-eval.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.resolve(repoRoot, "../shared/data");

async function runCli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerMetaEval(program);
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(["node", "critic", "meta-eval", ...args]);
  } finally {
    spy.mockRestore();
  }
  return stderr;
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

describe("critic meta-eval on real human-labelled pairwise data (Auto-J test set, 1392 pairs)", () => {
  const autoj = readFileSync(path.join(dataDir, "autoj/testdata_pairwise.jsonl"), "utf8")
    .split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown> & { label: number; "response 1": string; "response 2": string });

  it("scores a longer-response-wins baseline: accuracy matches a direct count, length bias shows 100%", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    const judged = autoj.map((r) => {
      const a = r["response 1"].length, b = r["response 2"].length;
      return { ...r, winner: a > b ? "A" : b > a ? "B" : "tie" };
    });
    // Two rows the judge failed on, one unreadable line: all must be counted.
    judged[5] = { ...judged[5]!, winner: null as unknown as string, error: "no verdict in output" } as (typeof judged)[number];
    await writeFile(path.join(dir, "judged.jsonl"), jsonl(judged).replace("\n", "\n{not json\n"));
    const out = path.join(dir, "report");
    const stderr = await runCli([
      path.join(dir, "judged.jsonl"), "--gold", "label", "--label-map", "A=0,B=1,tie=2", "--kind", "pairwise",
      "--by", "scenario", "--response-a", "response 1", "--response-b", "response 2", "--bootstrap", "200", "-o", out,
    ]);
    const result = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8")) as MetaEvalResult;
    const judge = result.judges[0]!;
    expect(judge.coverage).toMatchObject({ rows: 1392, evaluated: 1391, failedPrediction: 1, unreadableRows: 1 });

    const verdict = (label: number) => (label === 0 ? "A" : label === 1 ? "B" : "tie");
    const usable = judged.filter((r) => r.winner !== null);
    const correct = usable.filter((r) => r.winner === verdict(r.label)).length;
    const m = judge.metrics as PairwiseAgreement;
    expect(m.accuracyWithTies.value).toBeCloseTo(correct / usable.length, 12);
    const decisive = usable.filter((r) => r.winner !== "tie" && r.label !== 2);
    expect(m.accuracyWithoutTies.value).toBeCloseTo(decisive.filter((r) => r.winner === verdict(r.label)).length / decisive.length, 12);
    expect(m.counts.withoutTies).toBe(decisive.length);

    const length = judge.bias.length as { judgeLongerWins: { value: number }; goldLongerWins: { value: number } };
    expect(length.judgeLongerWins.value).toBe(1);
    expect(length.goldLongerWins.value).toBeGreaterThan(0.5);
    expect(judge.groups).toHaveLength(58);
    expect(judge.problems.map((p) => p.problem)).toEqual(["unreadable", "failed"]);
    expect(stderr).toMatch(/1391 of 1392 rows evaluated/);
    const md = await readFile(path.join(out, "report.md"), "utf8");
    expect(md).toContain("Accuracy without ties (items where neither side says tie)");
    expect(md).toContain("1 unreadable rows");
    expect(md).not.toMatch(/NaN/);
    for (const f of ["report.html", "charts/judged-confusion.svg", "charts/judged-confusion.png", "charts/judged-by-scenario.png"]) {
      expect((await readFile(path.join(out, f))).length).toBeGreaterThan(100);
    }
  });
});

describe("critic meta-eval comparing two judges on LLMBar Natural (100 expert-labelled pairs, label 1|2)", () => {
  const natural = JSON.parse(readFileSync(path.join(dataDir, "llmbar/llmbar_natural.json"), "utf8")) as Array<{ input: string; output_1: string; output_2: string; label: number }>;

  it("one table, a paired bootstrap difference, and the same numbers on a re-run", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    const judge = (pickLonger: boolean) =>
      natural.map((r) => {
        const longerIsA = r.output_1.length >= r.output_2.length;
        return { ...r, response_a: r.output_1, response_b: r.output_2, winner: longerIsA === pickLonger ? "A" : "B" };
      });
    await writeFile(path.join(dir, "longer.jsonl"), jsonl(judge(true)));
    await writeFile(path.join(dir, "shorter.jsonl"), jsonl(judge(false)));
    const files = [path.join(dir, "longer.jsonl"), path.join(dir, "shorter.jsonl")];
    const options = { files, gold: "label", bootstrap: 500, seed: 9 };
    const [a, b] = await Promise.all([metaEval(options), metaEval(options)]);
    expect(a.kind).toBe("pairwise");
    const c = a.comparison!;
    expect(c.table.map((r) => r.judge)).toEqual(["longer", "shorter"]);
    // The two judges always disagree, so their accuracies add up to 1 on these no-tie labels.
    expect(c.table[0]!.value.value! + c.table[1]!.value.value!).toBeCloseTo(1, 12);
    expect(c.table[1]!.difference!.value).toBeCloseTo(1 - 2 * c.table[0]!.value.value!, 12);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));

    const out = path.join(dir, "report");
    await runCli([...files, "--gold", "label", "--bootstrap", "300", "-o", out]);
    const md = await readFile(path.join(out, "report.md"), "utf8");
    expect(md).toContain("## Judges compared");
    expect(md).toMatch(/\| shorter \| [0-9.]+ \| \[[0-9.]+, [0-9.]+\] \| -?[0-9.]+ \|/);
  });

  it("clear errors for a missing gold field and for bad options", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    await writeFile(path.join(dir, "j.jsonl"), jsonl([{ winner: "A", label: 1 }, { winner: "B", label: 2 }]));
    // A gold or --by field that no record has is a typo: it fails at once with a suggestion.
    await expect(metaEval({ files: [path.join(dir, "j.jsonl")], gold: "lable", bootstrap: 0 })).rejects.toThrow(/--gold lable: no record of .*j\.jsonl has a field "lable"; did you mean "label"\?/);
    await expect(metaEval({ files: [path.join(dir, "j.jsonl")], gold: "label", by: "nonexistent", bootstrap: 0 })).rejects.toThrow(/--by nonexistent: no record/);
    await writeFile(path.join(dir, "some.jsonl"), jsonl([{ winner: "A", label: 1 }, { winner: "B" }]));
    const r = await metaEval({ files: [path.join(dir, "some.jsonl")], gold: "label", bootstrap: 0 });
    expect(r.judges[0]!.coverage.missingGold).toBe(1);
    await expect(runCli([path.join(dir, "j.jsonl"), "--gold", "label", "--kind", "ranking", "-o", dir])).rejects.toThrow(/expected score or pairwise/);
    await expect(metaEval({ files: [path.join(dir, "j.jsonl")], gold: "label", headline: "pearson" })).rejects.toThrow(/--headline for pairwise is one of/);
  });

  it("states the macro-average convention when a class is never predicted, and prints the report path cleanly", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    const rows = [["A", "A"], ["B", "B"], ["A", "tie"], ["B", "tie"], ["A", "B"]].map(([winner, label], i) => JSON.stringify({ id: i, winner, label }));
    await writeFile(path.join(dir, "j.jsonl"), `${rows.join("\n")}\n`);
    const out = path.join(dir, "rep1");
    const stderr = await runCli([path.join(dir, "j.jsonl"), "--gold", "label", "--bootstrap", "0", "-o", `${out}/`]);
    expect(stderr).toContain(`report: ${path.join(out, "report.html")},`);
    expect(stderr).not.toContain("//report.html");
    const md = await readFile(path.join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| tie \| 2 \| n\/a: the judge never says tie/);
    expect(md).toContain("counts as 0 in them (scikit-learn's zero_division=0)");
  });

  it("reads CSV (numbers as text) with one gold column per rater", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    await writeFile(path.join(dir, "j.csv"), "id,score,ann1,ann2\n1,5,5,4\n2,3,3,3\n3,1,2,1\n4,,4,4\n5,2,2,3\n");
    const r = await metaEval({ files: [path.join(dir, "j.csv")], gold: ["ann1", "ann2"], bootstrap: 0 });
    expect(r.kind).toBe("score");
    expect(r.judges[0]!.coverage).toMatchObject({ rows: 5, evaluated: 4, missingPrediction: 1 });
    expect(r.raters!.names).toEqual(["ann1", "ann2"]);
    // ann1 vs ann2 on 5 items: agree on items 2 and 4 -> 2/5.
    expect(r.raters!.pairs[0]!.metrics.exactAgreement!.value).toBeCloseTo(2 / 5, 12);
    // gold = mean of the two raters: 4.5, 3, 1.5, 4, 2.5 ; judge on rows 1,2,3,5.
    expect(r.judges[0]!.disagreements.map((d) => d.gold)).toEqual([1.5, 2.5, 4.5]);
  });

  it("prints the judges' comparison in the terminal, a p below what the resamples show as < 0.001", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "critic-cli-"));
    const mtBench = JSON.parse(readFileSync(path.join(dataDir, "prometheus_eval/mt_bench_eval.json"), "utf8")) as Array<{ gpt4_score: number[] }>;
    // GPT-4's first sample, and a judge that reverses it: far apart in every resample.
    await writeFile(path.join(dir, "sample.jsonl"), jsonl(mtBench.map((r) => ({ score: r.gpt4_score[0], gold: r.gpt4_score }))));
    await writeFile(path.join(dir, "reversed.jsonl"), jsonl(mtBench.map((r) => ({ score: 6 - r.gpt4_score[0]!, gold: r.gpt4_score }))));
    const stderr = await runCli([path.join(dir, "sample.jsonl"), path.join(dir, "reversed.jsonl"), "--gold", "gold", "-o", path.join(dir, "report")]);
    expect(stderr).toContain("judges compared on the 320 rows all of them predicted (Pearson r, paired bootstrap):");
    expect(stderr).toMatch(/\n {2}reversed minus sample: -[0-9.]+ \[-[0-9.]+, -[0-9.]+\], p < 0\.001\n/);
    expect(stderr).not.toMatch(/0\.000\b/);
  });
});
