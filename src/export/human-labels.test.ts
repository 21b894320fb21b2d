/** `critic export --labels`: the human labels of critic view decide the training rows. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../../test/support/cli.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";
import { exportDataset } from "./export.js";

const dir = mkdtempSync(join(tmpdir(), "critic-export-labels-"));
const RUBRIC = { criteria: "Does it answer the question?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };
const judgment = (i: number, score: number) => ({
  id: `j${i}`,
  instruction: `Question ${i}?`,
  response: `Answer ${i}.`,
  feedback: `The judge's view of answer ${i}.`,
  score,
  judge: { backend: "openai", model: "judge-1", template: "prometheus-absolute", rubric: RUBRIC, raw: "", samples: [] },
});

describe("export --labels", () => {
  const judgments = join(dir, "judgments.jsonl");
  const labels = join(dir, "labels.jsonl");
  beforeAll(() => {
    writeJsonl(judgments, [judgment(0, 4), judgment(1, 2), judgment(2, 3), judgment(3, 5)]);
    writeJsonl(labels, [
      { id: "j0", annotator: "ana", score: 4, at: "" }, // agrees
      { id: "j1", annotator: "ana", score: 5, note: "It answers every part of the question.", at: "" }, // corrects, with a note
      { id: "j2", annotator: "ana", score: 1, at: "" }, // corrects, no note
    ]);
  });

  it("SFT: verified judgments as they are, corrections with the human verdict and note; DPO: human critique over the judge's", async () => {
    const out = join(dir, "out");
    const summary = await exportDataset({ input: judgments, outDir: out, formats: ["sft-messages", "dpo"], labels, testSize: 0 });
    expect(summary.human).toEqual({ file: labels, warnings: [], agreed: 1, corrected: 1, "corrected-without-note": 1 });

    const sft = readJsonl<{ messages: Array<{ role: string; content: string }> }>(join(out, "sft-messages", "train.jsonl"));
    expect(sft.map((r) => r.messages.at(-1)!.content)).toEqual([
      "The judge's view of answer 0. [RESULT] 4",
      "It answers every part of the question. [RESULT] 5",
    ]);
    expect(sft[1]!.messages.map((m) => m.content).join("\n")).toContain("Question 1?");
    const sftCounts = JSON.parse(readFileSync(join(out, "sft-messages", "export.json"), "utf8")).counts;
    expect(sftCounts.skipped).toEqual({ unlabelled: 1, "correction-without-note": 1 });

    const dpo = readJsonl<{ prompt: string; chosen: string; rejected: string }>(join(out, "dpo", "train.jsonl"));
    expect(dpo).toHaveLength(1);
    expect(dpo[0]!.prompt).toContain("Answer 1.");
    expect(dpo[0]!.prompt).toContain("Does it answer the question?");
    expect(dpo[0]!.chosen).toBe("It answers every part of the question. [RESULT] 5");
    expect(dpo[0]!.rejected).toBe("The judge's view of answer 1. [RESULT] 2");
    expect(JSON.parse(readFileSync(join(out, "dpo", "export.json"), "utf8")).counts.skipped).toEqual({ "judge-agreed": 1, unlabelled: 1, "correction-without-note": 1 });
  });

  it("pairwise: the majority of annotators; a split gives no row", async () => {
    const file = join(dir, "pairs.jsonl");
    const pairLabels = join(dir, "pairs.labels.jsonl");
    const pair = (i: number, winner: string) => ({
      id: `p${i}`, instruction: `Q${i}`, response_a: `A${i}`, response_b: `B${i}`, winner, feedback: `judge prefers ${winner}`,
      judge: { backend: "openai", model: "m", template: "prometheus-pairwise", rubric: RUBRIC, raw: "", samples: [] },
    });
    writeJsonl(file, [pair(0, "A"), pair(1, "A")]);
    writeJsonl(pairLabels, [
      { id: "p0", annotator: "ana", winner: "B", note: "B cites its source", at: "" },
      { id: "p0", annotator: "bo", winner: "B", at: "" },
      { id: "p0", annotator: "cy", winner: "A", at: "" },
      { id: "p1", annotator: "ana", winner: "B", at: "" },
      { id: "p1", annotator: "bo", winner: "A", at: "" },
    ]);
    const out = join(dir, "pairs-out");
    const summary = await exportDataset({ input: file, outDir: out, formats: ["openai-dpo"], labels: pairLabels, testSize: 0 });
    expect(summary.human).toMatchObject({ agreed: 0, corrected: 1 });
    const rows = readJsonl<{ preferred_output: Array<{ content: string }>; non_preferred_output: Array<{ content: string }> }>(join(out, "train.jsonl"));
    expect(rows.map((r) => [r.preferred_output[0]!.content, r.non_preferred_output[0]!.content])).toEqual([["B cites its source [RESULT] B", "judge prefers A [RESULT] A"]]);
    expect(JSON.parse(readFileSync(join(out, "export.json"), "utf8")).counts.skipped).toEqual({ "no-human-majority": 1 });
  });

  it("the CLI says what the humans did, and a bad labels line stops it with file and line", async () => {
    assertBuilt();
    const ok = await runCli(["export", judgments, "-o", join(dir, "cli"), "-f", "sft-messages", "--labels", labels]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain("1 agreed with the judge, 1 corrected with a note, 1 corrected without a note");
    const bad = join(dir, "bad.labels.jsonl");
    writeJsonl(bad, [{ id: "j0", annotator: "ana", score: 4 }, { id: "j1", score: 2 }]);
    const failed = await runCli(["export", judgments, "-o", join(dir, "cli2"), "-f", "sft-messages", "--labels", bad]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${bad}:2: field "annotator" is missing`);
  });
});
