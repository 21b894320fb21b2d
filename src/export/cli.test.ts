/** `critic export` end to end through the built binary (bin/critic.js -> dist/). */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../../test/support/cli.js";
import { readRecords } from "../records/read.js";
import { dpoRowSchema, openaiDpoRowSchema, sftMessagesRowSchema } from "./schemas.js";
import { readJsonl } from "../../test/support/jsonl.js";

const dir = mkdtempSync(join(tmpdir(), "critic-export-cli-"));
const pairs = join(dir, "pairs.jsonl");

beforeAll(() => {
  assertBuilt();
  const rows = Array.from({ length: 20 }, (_, i) => ({ prompt: `Task ${i % 10}: say something kind.`, chosen: `Kind words ${i}.`, rejected: `Rude words ${i}.` }));
  writeFileSync(pairs, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n{"prompt": "broken"\n`);
});

describe("critic export", () => {
  it("one format: train/test/export.json/README.md in the output folder itself, Parquet with --parquet", async () => {
    const out = join(dir, "one");
    const rejects = join(dir, "rejects.jsonl");
    const result = await runCli(["export", pairs, "-o", out, "-f", "dpo", "--test-size", "0.2", "--seed", "3", "--parquet", "--rejects", rejects]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`read 20 records (pairs 20), rejected 1\n  rejects written to ${rejects}\n`);
    expect(result.stderr).toMatch(new RegExp(`first rejected: ${pairs.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:21: invalid JSON`));
    expect(result.stderr).toMatch(/dpo: train 16, test 4 rows \(8 \/ 2 prompts\)/);
    expect(readdirSync(out).sort()).toEqual(["README.md", "export.json", "test.jsonl", "test.parquet", "train.jsonl", "train.parquet"]);
    const manifest = JSON.parse(readFileSync(join(out, "export.json"), "utf8"));
    expect(manifest).toMatchObject({
      format: "dpo", trainer: "dpo", conversational: false, files: { train: "train.jsonl", test: "test.jsonl" },
      counts: { read: 20, rejected: 1, train: 16, test: 4 }, source: [pairs], seed: 3, testSize: 0.2,
    });
    const train = readJsonl(join(out, "train.jsonl"));
    for (const row of train) expect(dpoRowSchema.safeParse(row).success).toBe(true);
    const parquetRows = [];
    for await (const { record } of readRecords(join(out, "train.parquet"))) parquetRows.push(record);
    expect(parquetRows).toEqual(train);
    expect(readJsonl(rejects)).toMatchObject([{ file: pairs, line: 21 }]);
  });

  it("several formats: one folder each; --format repeats and takes commas", async () => {
    const out = join(dir, "many");
    const result = await runCli(["export", pairs, "-o", out, "-f", "openai-dpo,sft-messages", "--format", "reward", "--dedupe"]);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["openai-dpo", "reward", "sft-messages"]);
    for (const format of ["openai-dpo", "reward", "sft-messages"]) {
      expect(readdirSync(join(out, format)).sort()).toEqual(["README.md", "export.json", "test.jsonl", "train.jsonl"]);
    }
    for (const row of readJsonl(join(out, "openai-dpo", "train.jsonl"))) expect(openaiDpoRowSchema.safeParse(row).success).toBe(true);
    for (const row of readJsonl(join(out, "sft-messages", "train.jsonl"))) expect(sftMessagesRowSchema.safeParse(row).success).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "openai-dpo", "export.json"), "utf8"))).toMatchObject({ format: "openai-dpo", trainer: "openai-dpo", conversational: true });
  });

  it("--round over judgments with --samples 3: a sample that argues for the target gives the critique; none: skipped, and the summary says why", async () => {
    const rubric = { criteria: "Helpful?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const judgment = (i: number, scores: number[]) => ({
      instruction: `Question ${i}`, response: `Answer ${i}`, ...rubric,
      feedback: `argues for ${scores[0]}`, score: scores.reduce((a, b) => a + b, 0) / scores.length,
      judge: { backend: "openai", model: "judge", template: "prometheus-absolute", samples: scores.map((s) => ({ feedback: `argues for ${s}`, score: s })) },
    });
    const input = join(dir, "sampled.jsonl");
    writeFileSync(input, `${[judgment(0, [5, 1, 5]), judgment(1, [3, 4, 5]), judgment(2, [4, 4, 5])].map((r) => JSON.stringify(r)).join("\n")}\n`);
    const out = join(dir, "sampled");
    const result = await runCli(["export", input, "-o", out, "-f", "prometheus-sft", "--round", "--test-size", "0"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/skipped: no-sample-agrees 1/);
    const targets = readJsonl(join(out, "train.jsonl")).map((r) => (r.messages as Array<{ content: string }>).at(-1)!.content).sort();
    expect(targets).toEqual(["argues for 4 [RESULT] 4", "argues for 4 [RESULT] 4"]);
  });

  it("explains bad arguments without a stack trace", async () => {
    const [unknown, missing] = await Promise.all([
      runCli(["export", pairs, "-o", join(dir, "x"), "-f", "dpo,sft", "--test-size", "0.1"]),
      runCli(["export", join(dir, "missing.jsonl"), "-o", join(dir, "x"), "-f", "dpo"]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown format "sft"; formats: sft-messages, sft-prompt-completion, alpaca/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.jsonl: no such file/);
    expect(missing.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("a format that gets no rows fails (exit 1) and says what is missing: criticon-sft from Prometheus judgments, kto without --kto-threshold", async () => {
    const judgments = join(dir, "prometheus-judgments.jsonl");
    const rows = Array.from({ length: 4 }, (_, i) => ({ instruction: `q${i}`, response: `r${i}`, feedback: "fine", score: 1 + i, judge: { template: "prometheus-absolute" } }));
    writeFileSync(judgments, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const [criticon, kto, both] = await Promise.all([
      runCli(["export", judgments, "-o", join(dir, "criticon-empty"), "-f", "criticon-sft", "--rubric", "helpfulness"]),
      runCli(["export", judgments, "-o", join(dir, "kto-empty"), "-f", "kto"]),
      runCli(["export", judgments, "-o", join(dir, "kto-ok"), "-f", "kto", "--kto-threshold", "3", "--test-size", "0"]),
    ]);
    expect(criticon.code, criticon.stderr).toBe(1);
    expect(criticon.stderr).toMatch(/error: criticon-sft: no rows from 4 records: scale-mismatch 4 \(the judgment was made on another scale than the template's\)/);
    expect(criticon.stderr).toMatch(/criticon-sft trains Criticon's 1-10 critiques; for these judgments use prometheus-sft, or sft-messages \(each judgment's own template\)/);
    expect(kto.code, kto.stderr).toBe(1);
    expect(kto.stderr).toMatch(/error: kto: no rows from 4 records: no-pair 4/);
    expect(kto.stderr).toMatch(/pass --kto-threshold <score> to label absolute judgments \(a score at or above it is desirable\)/);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).toMatch(/kto: train 4, test 0 rows/);
  });
});
