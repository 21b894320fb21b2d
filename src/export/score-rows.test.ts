/** `critic export -f classify|regress`: score rows for a sequence-classification judge, and PHUDGE's dropout. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../../test/support/cli.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";
import { getTemplate, renderPrompt, type Rubric } from "../templates/index.js";
import type { ExportManifest } from "./card.js";
import { exportDataset } from "./export.js";
import { PHUDGE_SYSTEM_PROMPTS, phudgePrompt } from "../templates/phudge.js";
import { classifyRowSchema, regressRowSchema } from "./schemas.js";

const dir = mkdtempSync(join(tmpdir(), "critic-export-score-"));
const RUBRIC = { criteria: "Is the answer correct?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) } as Rubric;
const PROMETHEUS = getTemplate("prometheus-absolute");

const judgment = (i: number, score: number | null, extra: Record<string, unknown> = {}) => ({
  id: `j${i}`,
  instruction: `Question ${i}: what is ${i} + ${i}?`,
  response: `${2 * i}`,
  reference_answer: `It is ${2 * i}.`,
  feedback: `Feedback ${i}.`,
  score,
  judge: { backend: "openai", model: "judge-1", template: "prometheus-absolute", rubric: RUBRIC, raw: "", samples: [] },
  ...extra,
});

const manifestOf = (folder: string) => JSON.parse(readFileSync(join(folder, "export.json"), "utf8")) as ExportManifest;
const rowsOf = <T = { text: string; label: number }>(folder: string) => [...readJsonl<T>(join(folder, "train.jsonl")), ...readJsonl<T>(join(folder, "test.jsonl"))];

describe("export -f classify / regress", () => {
  const judgments = join(dir, "judgments.jsonl");
  beforeAll(() => {
    writeJsonl(judgments, [
      judgment(0, 1),
      judgment(1, 5),
      judgment(2, 3.5), // a mean over samples
      judgment(3, 7), // outside 1-5
      judgment(4, null), // no verdict
      { id: "duel", instruction: "Duel", response_a: "a", response_b: "b", winner: "A", feedback: "A wins", judge: { template: "prometheus-pairwise" } },
      { prompt: "p", chosen: "c", rejected: "r" },
    ]);
  });

  it("classify: text is the rendered judge prompt (system prompt at the head), label the score's index; export.json names labels, scale and template", async () => {
    const out = join(dir, "classify");
    await exportDataset({ input: judgments, outDir: out, formats: ["classify"], testSize: 0 });
    const rows = rowsOf(out);
    expect(rows.map((r) => r.label)).toEqual([0, 4]);
    const expected = renderPrompt(PROMETHEUS, judgment(0, 1), RUBRIC, { systemInUser: true });
    expect(expected).toHaveLength(1);
    expect(rows[0]!.text).toBe(expected[0]!.content);
    expect(rows[0]!.text.startsWith(`${PROMETHEUS.system}\n\n###Task Description:`)).toBe(true);
    for (const row of rows) expect(classifyRowSchema.safeParse(row).success).toBe(true);
    const manifest = manifestOf(out);
    expect(manifest).toMatchObject({ format: "classify", trainer: "classify", fields: { text: expect.any(String), label: expect.any(String) } });
    expect(manifest.head).toEqual({ kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 }, template: "prometheus-absolute", template_options: { system_in_user: true } });
    expect(manifest.counts.skipped).toEqual({ "non-integer-score": 1, "score-out-of-scale": 1, "no-verdict": 1, "needs-score": 2 });
    expect(readFileSync(join(out, "README.md"), "utf8")).toContain("Label i stands for score 0 = 1, 1 = 2, 2 = 3, 3 = 4, 4 = 5");
  });

  it("regress keeps a mean score; classify takes it with --round", async () => {
    const out = join(dir, "both");
    await exportDataset({ input: judgments, outDir: out, formats: ["classify", "regress"], testSize: 0, round: true });
    expect(rowsOf(join(out, "regress")).map((r) => r.label)).toEqual([1, 5, 3.5]);
    expect(rowsOf(join(out, "classify")).map((r) => r.label)).toEqual([0, 4, 3]); // 3.5 rounds to 4, index 3
    for (const row of rowsOf(join(out, "regress"))) expect(regressRowSchema.safeParse(row).success).toBe(true);
    expect(manifestOf(join(out, "regress")).head).toMatchObject({ kind: "regress", labels: null, scale: { min: 1, max: 5 } });
  });

  it("gold from a dataset's own score field (--map score=orig_score): no judge recorded, so prometheus-absolute", async () => {
    const file = writeJsonl(join(dir, "gold.jsonl"), [1, 2, 3, 4].map((i) => ({ instruction: `Q${i}`, response: `A${i}`, orig_score: i, ...RUBRIC })));
    const out = join(dir, "gold");
    await exportDataset({ input: file, outDir: out, formats: ["classify"], testSize: 0, map: { score: "orig_score" } });
    const rows = rowsOf(out);
    expect(rows.map((r) => r.label)).toEqual([0, 1, 2, 3]);
    expect(rows[0]!.text).toContain("###Score Rubrics:\n[Is the answer correct?]");
    expect(rows[0]!.text).not.toContain("###Reference Answer");
  });

  it("--labels: a human correction without a note is still a gold score for classify (the critique formats skip it)", async () => {
    const labels = writeJsonl(join(dir, "labels.jsonl"), [
      { id: "j0", annotator: "ana", score: 1, at: "" }, // agrees
      { id: "j1", annotator: "ana", score: 2, at: "" }, // corrects 5 -> 2, no note
    ]);
    const out = join(dir, "human");
    const summary = await exportDataset({ input: judgments, outDir: out, formats: ["classify", "sft-messages"], labels, testSize: 0 });
    expect(summary.human).toMatchObject({ agreed: 1, "corrected-without-note": 1 });
    expect(rowsOf(join(out, "classify")).map((r) => r.label)).toEqual([0, 1]);
    expect(manifestOf(join(out, "sft-messages")).counts.skipped["correction-without-note"]).toBe(1);
  });
});

describe("PHUDGE prompt form (--augment-drop)", () => {
  const user = renderPrompt(PROMETHEUS, judgment(3, 4), RUBRIC)[1]!.content;

  it("cuts a Prometheus prompt into PHUDGE's sections under the matching one of four system prompts", () => {
    const all = phudgePrompt(user, { rubric: true, reference: true });
    expect(all.system).toBe(PHUDGE_SYSTEM_PROMPTS.ref_rub);
    expect(all.user).toBe(
      "###The instruction to evaluate:\nQuestion 3: what is 3 + 3?\n\n###Response to evaluate:\n6\n\n###Reference Answer (Score 5):\nIt is 6.\n\n" +
        "###Score Rubrics:\n[Is the answer correct?]\nScore 1: level 1\nScore 2: level 2\nScore 3: level 3\nScore 4: level 4\nScore 5: level 5",
    );
    expect(phudgePrompt(user, { rubric: false, reference: true })).toMatchObject({ system: PHUDGE_SYSTEM_PROMPTS.ref_only, user: expect.stringMatching(/Score 5\):\nIt is 6\.$/) });
    expect(phudgePrompt(user, { rubric: true, reference: false }).system).toBe(PHUDGE_SYSTEM_PROMPTS.rubric_only);
    expect(phudgePrompt(user, { rubric: false, reference: false })).toEqual({
      system: PHUDGE_SYSTEM_PROMPTS.sys_only, user: "###The instruction to evaluate:\nQuestion 3: what is 3 + 3?\n\n###Response to evaluate:\n6", rubric: false, reference: false,
    });
  });

  it("train rows drop rubric and reference each with probability p, test rows keep both; the draw is the same on every run", async () => {
    const many = writeJsonl(join(dir, "many.jsonl"), Array.from({ length: 200 }, (_, i) => judgment(i, (i % 5) + 1)));
    const run = async (name: string) => {
      const out = join(dir, name);
      await exportDataset({ input: many, outDir: out, formats: ["classify"], augmentDrop: 0.5, testSize: 0.2 });
      return out;
    };
    const out = await run("aug-a");
    const train = readJsonl<{ text: string; label: number }>(join(out, "train.jsonl"));
    const test = readJsonl<{ text: string; label: number }>(join(out, "test.jsonl"));
    const kind = (text: string) => Object.entries(PHUDGE_SYSTEM_PROMPTS).find(([, system]) => text.startsWith(`${system}\n\n###The instruction`))?.[0];
    const kinds: Record<string, number> = {};
    for (const row of train) {
      const k = kind(row.text)!;
      expect(k).toBeDefined();
      kinds[k] = (kinds[k] ?? 0) + 1;
      expect(row.text.includes("###Score Rubrics")).toBe(k === "ref_rub" || k === "rubric_only");
      expect(row.text.includes("###Reference Answer")).toBe(k === "ref_rub" || k === "ref_only");
    }
    // 160 train rows, each of the four forms with probability 1/4: each count is within 20..60 (z > 3.6 otherwise).
    for (const name of Object.keys(PHUDGE_SYSTEM_PROMPTS)) expect(kinds[name] ?? 0, name).toBeGreaterThanOrEqual(20);
    for (const name of Object.keys(PHUDGE_SYSTEM_PROMPTS)) expect(kinds[name] ?? 0, name).toBeLessThanOrEqual(60);
    for (const row of test) expect(kind(row.text)).toBe("ref_rub");
    expect(manifestOf(out).head?.template_options).toEqual({ system_in_user: true, prompt_form: "phudge", augment_drop: 0.5 });
    const again = await run("aug-b");
    expect(readFileSync(join(again, "train.jsonl"), "utf8")).toBe(readFileSync(join(out, "train.jsonl"), "utf8"));
  });

  it("refuses --augment-drop outside [0, 1], without a score format, or with another template", async () => {
    const base = { input: join(dir, "judgments.jsonl"), outDir: join(dir, "bad") };
    await expect(exportDataset({ ...base, formats: ["classify"], augmentDrop: 1.5 })).rejects.toThrow(/probability in \[0, 1\]/);
    await expect(exportDataset({ ...base, formats: ["sft-messages"], augmentDrop: 0.5 })).rejects.toThrow(/classify and regress formats only/);
    await expect(exportDataset({ ...base, formats: ["classify"], augmentDrop: 0.5, template: "criticon" })).rejects.toThrow(/needs --template prometheus-absolute, not criticon/);
  });

  it("CLI: critic export -f classify --augment-drop 0.5", async () => {
    assertBuilt();
    const out = join(dir, "cli");
    const ok = await runCli(["export", join(dir, "judgments.jsonl"), "-f", "classify", "--augment-drop", "0.5", "-o", out, "--test-size", "0"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain("classify: train 2, test 0 rows");
    const bad = await runCli(["export", join(dir, "judgments.jsonl"), "-f", "classify", "--augment-drop", "2", "-o", out]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected a probability in [0, 1], got "2"');
  });
});
