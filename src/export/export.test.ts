/**
 * exportDataset over real files: judgments made by `judge()` against a local OpenAI-compatible
 * server, hand-written pairs and revisions, and prometheus-eval's HHH pairs. Every row written is
 * read back from disk and checked against its target format's schema.
 */
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type ChatBody, type FaultServer } from "../../test/support/fault-server.js";
import { judge } from "../judge/judge.js";
import { readRecords } from "../records/read.js";
import { createRecordWriter } from "../records/write.js";
import { exportDataset } from "./export.js";
import { continuation, FORMATS } from "./formats.js";
import { rowSchemaFor } from "./schemas.js";
import { normalizePrompt } from "./split.js";
import { FORMAT_NAMES, type FormatName } from "./types.js";
import type { ExportManifest } from "./card.js";
import { readJsonl, writeJsonl as writeJsonlFile } from "../../test/support/jsonl.js";

const writeJsonl = (name: string, rows: unknown[], extraLines: string[] = []): string => writeJsonlFile(join(dir, name), [...rows, ...extraLines]);

const dir = mkdtempSync(join(tmpdir(), "critic-export-"));
const hhhPairs = fileURLToPath(new URL("../../../shared/data/prometheus_eval/hhh_alignment_pairs_parsed.jsonl", import.meta.url));
let server: FaultServer;
const files = { absolute: "", pairwise: "", pairs: "", revisions: "" };

function lastUser(body: ChatBody): string {
  return body.messages!.filter((m) => m.role === "user").at(-1)!.content;
}

/** Deterministic judge replies: a score per question, a split verdict for "UNSURE", garbage for "BROKEN". */
function reply(body: ChatBody): string {
  const prompt = lastUser(body);
  if (prompt.includes("BROKEN")) return "I cannot grade this.";
  if (prompt.includes("###Response A:")) {
    if (prompt.includes("SAME-ANSWER")) return "Both are similar; A first. [RESULT] A";
    const a = prompt.slice(prompt.indexOf("###Response A:"), prompt.indexOf("###Response B:"));
    return a.includes("GOOD") ? "A is correct and B is not. [RESULT] A" : "B is correct and A is not. [RESULT] B";
  }
  if (prompt.includes("UNSURE")) return `Partly right. [SCORE] ${Math.floor(Number(body.seed ?? 0) / 1000) % 2 === 0 ? 7 : 8}`;
  const n = /Question (\d+)/.exec(prompt)?.[1] ?? "0";
  return `Feedback on question ${n}: accurate, could be shorter. [SCORE] ${(Number(n) % 10) + 1}`;
}

beforeAll(async () => {
  server = await startFaultServer({ reply });
  const store = join(dir, "store.sqlite");
  // Absolute judgments with Criticon, two samples each: "UNSURE" questions get a mean of 7.5.
  const absolute = writeJsonl("questions.jsonl", [
    ...Array.from({ length: 12 }, (_, i) => ({ id: `q${i}`, instruction: `Question ${i}: what is ${i} + ${i}?`, response: `${2 * i}` })),
    { id: "q2-again", instruction: "Question  2: what is 2 +\n2?", response: "4, of course" },
    { id: "unsure", instruction: "UNSURE: is light a wave?", response: "It is both." },
    { id: "broken", instruction: "BROKEN question", response: "?" },
  ]);
  files.absolute = join(dir, "judgments-absolute.jsonl");
  const abs = await judge({
    input: absolute, output: files.absolute, model: "openai:judge-model", baseURL: server.baseURL, template: "criticon",
    samples: 2, maxRetries: 0, params: { temperature: 0.7, seed: 0 }, store, progress: false,
  });
  expect(abs).toMatchObject({ judged: 14, failed: 1 });
  // Pairwise judgments with Prometheus, both orders: "SAME-ANSWER" always says A, so its orders disagree (a tie).
  const duel = writeJsonl("duels.jsonl", [
    ...Array.from({ length: 6 }, (_, i) => ({
      instruction: `Duel ${i}: name a prime above ${i * 10}.`,
      response_a: i % 2 ? `GOOD ${i * 10 + 1}` : `${i * 10} (wrong)`,
      response_b: i % 2 ? `${i * 10} (wrong)` : `GOOD prime ${i * 10 + 3}`,
      criteria: "Is the answer a correct prime?",
    })),
    { instruction: "SAME-ANSWER duel", response_a: "x", response_b: "y", criteria: "Which is better?" },
  ]);
  files.pairwise = join(dir, "judgments-pairwise.jsonl");
  const pw = await judge({
    input: duel, output: files.pairwise, model: "openai:judge-model", baseURL: server.baseURL, template: "prometheus-pairwise",
    swap: true, store, progress: false,
  });
  expect(pw).toMatchObject({ judged: 7, failed: 0 });
  files.pairs = writeJsonl(
    "pairs.jsonl",
    [
      { prompt: "Write a greeting.", chosen: "Hello there!", rejected: "Go away.", chosen_score: 9, rejected_score: 2 },
      { prompt: "Write a greeting.", chosen: "Hello there!", rejected: "Go away.", chosen_score: 9, rejected_score: 2 },
      { prompt: "Spell cat.", chosen: "c-a-t", rejected: "c-a-t" },
      { prompt: "   ", chosen: "a", rejected: "b" },
      { prompt: "No rejected field", chosen: "a" },
    ],
    ["{not json at all", JSON.stringify({ something: "else" })],
  );
  files.revisions = writeJsonl("revisions.jsonl", [
    { prompt: "Explain tides.", chain: [{ response: "Wind.", critique: "Wrong cause.", score: 2 }, { response: "The Moon's gravity.", score: 8 }], accepted: true, chosen: "The Moon's gravity.", rejected: "Wind.", chosen_score: 8, rejected_score: 2 },
    { prompt: "Explain rain.", chain: [{ response: "Clouds.", score: 3 }], accepted: false, chosen: null, rejected: null },
    { prompt: "Explain snow.", chain: [{ response: "Frozen water vapour.", score: 9 }], accepted: true, chosen: "Frozen water vapour.", rejected: null },
  ]);
});

afterAll(async () => {
  await server?.close();
});

describe("exportDataset", () => {
  it("writes every format (the thirteen of FORMAT_NAMES) from judgments, pairs and revisions; every row passes its format's schema", async () => {
    const out = join(dir, "all");
    const rejects = join(dir, "all-rejects.jsonl");
    const summary = await exportDataset({
      input: [files.absolute, files.pairwise, files.pairs, files.revisions],
      outDir: out,
      formats: [...FORMAT_NAMES],
      parquet: true,
      dedupe: true,
      rejects,
    });
    expect(readdirSync(out).sort()).toEqual([...FORMAT_NAMES].sort());
    expect(summary).toMatchObject({ read: 31, rejected: 3, rejects, kinds: { judgments: 22, pairs: 4, revisions: 3 } });

    for (const format of FORMAT_NAMES) {
      const folder = join(out, format);
      expect(readdirSync(folder).sort()).toEqual(["README.md", "export.json", "test.jsonl", "test.parquet", "train.jsonl", "train.parquet"]);
      const manifest = JSON.parse(readFileSync(join(folder, "export.json"), "utf8")) as ExportManifest;
      expect(manifest).toMatchObject({
        format,
        trainer: FORMATS[format].trainer,
        conversational: FORMATS[format].conversational(false),
        files: { train: "train.jsonl", test: "test.jsonl" },
        parquet: { train: "train.parquet", test: "test.parquet" },
        source: [files.absolute, files.pairwise, files.pairs, files.revisions],
        seed: 0,
        testSize: 0.1,
      });
      const train = readJsonl(join(folder, "train.jsonl"));
      const test = readJsonl(join(folder, "test.jsonl"));
      expect(manifest.counts).toMatchObject({ read: 31, rejected: 3, train: train.length, test: test.length });
      expect(train.length, format).toBeGreaterThan(0);
      // The writer's own schema guard never had to drop a row.
      expect(manifest.counts.skipped["invalid-row"], format).toBeUndefined();
      const schema = rowSchemaFor(format);
      for (const row of [...train, ...test]) {
        const result = schema.safeParse(row);
        expect(result.success, `${format}: ${JSON.stringify(row).slice(0, 200)} ${result.error?.message ?? ""}`).toBe(true);
      }
      // Parquet holds the same rows; message lists come back as lists, other objects as JSON text.
      const fromParquet: Array<Record<string, unknown>> = [];
      for await (const { record } of readRecords(join(folder, "train.parquet"))) {
        fromParquet.push(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v])));
      }
      expect(fromParquet, format).toEqual(train);
    }

    const counts = (format: FormatName) => JSON.parse(readFileSync(join(out, format, "export.json"), "utf8")).counts as ExportManifest["counts"];
    // Criticon judgments: 15 records, 1 failed, "UNSURE" has a mean of 7.5.
    expect(counts("criticon-sft").skipped).toEqual({ "judge-error": 1, "non-integer-score": 1, "mode-mismatch": 7, "needs-judgment": 6, "not-accepted": 1 });
    expect(counts("criticon-sft").train + counts("criticon-sft").test).toBe(13);
    // Prometheus relative from the pairwise judgments: 6 rows, the SAME-ANSWER tie is skipped; the Criticon judgments are on 1-10.
    const prometheus = counts("prometheus-sft");
    expect(prometheus.train + prometheus.test).toBe(6);
    expect(prometheus.skipped).toEqual({ tie: 1, "scale-mismatch": 14, "judge-error": 1, "needs-judgment": 6, "not-accepted": 1 });
    // DPO: 6 decisive duels + 1 unique greeting pair + 1 revision; the duplicate greeting, the identical pair, the blank prompt drop.
    const dpo = counts("dpo");
    expect(dpo.train + dpo.test).toBe(8);
    expect(dpo.skipped).toEqual({ duplicate: 1, "same-response": 1, "empty-text": 1, "no-pair": 15, tie: 1, "not-accepted": 1, "judge-error": 1 });
    expect(counts("kto").train + counts("kto").test).toBe(16);
    expect(counts("kto").skipped.duplicate).toBe(2);
    // sft-messages: 13 critiques + 6 duel critiques + greeting + spell-cat + tides + snow.
    const sft = counts("sft-messages");
    expect(sft.train + sft.test).toBe(23);

    const duelRows = readJsonl(join(out, "dpo", "train.jsonl")).concat(readJsonl(join(out, "dpo", "test.jsonl"))).filter((r) => String(r.prompt).startsWith("Duel"));
    expect(duelRows).toHaveLength(6);
    for (const row of duelRows) {
      // TRL appends a standard completion to the prompt as is: it starts with the docs' space.
      expect(String(row.chosen)).toMatch(/^ GOOD/);
      expect(String(row.rejected)).toMatch(/\(wrong\)$/);
    }
    const criticon = [...readJsonl(join(out, "criticon-sft", "train.jsonl")), ...readJsonl(join(out, "criticon-sft", "test.jsonl"))];
    const q3 = criticon.find((r) => JSON.stringify(r).includes("Question 3: what is 3 + 3?")) as { messages: Array<{ content: string }> };
    expect(q3.messages.at(-1)!.content).toBe("Feedback on question 3: accurate, could be shorter. [SCORE] 4");

    const rejected = readJsonl(rejects);
    expect(rejected.map((r) => [r.file, r.line, r.field ?? null])).toEqual([
      [files.pairs, 5, "rejected"],
      [files.pairs, 6, null],
      [files.pairs, 7, null],
    ]);
    expect(String(rejected[1]!.reason)).toMatch(/invalid JSON/);
    expect(String(rejected[2]!.reason)).toMatch(/cannot tell what this record is/);
    expect(summary.firstReject).toMatchObject({ file: files.pairs, line: 5 });

    const card = readFileSync(join(out, "criticon-sft", "README.md"), "utf8");
    expect(card).toMatch(/^---\nconfigs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: train.jsonl\n/);
    expect(card).toContain(`| train | ${counts("criticon-sft").train} |`);
    expect(card).toMatch(/\| openai \| judge-model \| criticon \| 2 \| no \| - \| `\{[^`]*"temperature":0\.7[^`]*\}` \| 13 \|/);
    expect(card).toContain("| judge-error | 1 |");
    expect(card).toContain("- `criticon`: 13 rows");
    expect(card).toContain(`- \`${files.absolute}\``);
    expect(card).toContain("Records read: 31 (judgments 22, pairs 4, revisions 3); rejected as unreadable or invalid: 3.");
    expect(readFileSync(join(out, "prometheus-sft", "README.md"), "utf8")).toMatch(/\| openai \| judge-model \| prometheus-pairwise \| 1 \| yes \| - \| `\{[^`]*\}` \| 6 \|/);
    expect(readFileSync(join(out, "dpo-conversational", "README.md"), "utf8")).toContain("message lists are Parquet lists of `{role, content}` structs");
  });

  it("--round keeps the mean-of-samples score, rounded half up", async () => {
    const out = join(dir, "rounded");
    await exportDataset({ input: files.absolute, outDir: out, formats: ["criticon-sft"], round: true, testSize: 0 });
    const rows = readJsonl(join(out, "train.jsonl")) as Array<{ messages: Array<{ content: string }> }>;
    expect(rows).toHaveLength(14);
    const unsure = rows.find((r) => r.messages[1]!.content.includes("UNSURE"))!;
    expect(unsure.messages[2]!.content).toBe("Partly right. [SCORE] 8");
    expect(readJsonl(join(out, "test.jsonl"))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(out, "export.json"), "utf8")) as ExportManifest;
    expect(manifest).toMatchObject({ round: true, testSize: 0, counts: { train: 14, test: 0, testPrompts: 0 } });
  });

  it("a standard completion starts with a space unless the prompt ends in whitespace or the completion starts with it", () => {
    expect(`what is 0+0?${continuation("what is 0+0?", "It is 0.")}`).toBe("what is 0+0? It is 0.");
    expect(continuation("Answer:\n", "It is 0.")).toBe("It is 0.");
    expect(continuation("Answer:", "\nIt is 0.")).toBe("\nIt is 0.");
  });

  it("--kto-threshold labels each absolutely judged response by its score; without it there is no KTO row", async () => {
    const out = join(dir, "kto-threshold");
    await exportDataset({ input: files.absolute, outDir: out, formats: ["kto"], ktoThreshold: 7, testSize: 0 });
    const judged = readJsonl(files.absolute).filter((j) => typeof j.score === "number") as Array<{ instruction: string; response: string; score: number }>;
    const rows = readJsonl(join(out, "train.jsonl"));
    expect(rows).toHaveLength(judged.length);
    const key = (r: Record<string, unknown>) => JSON.stringify(r);
    expect(rows.map(key).sort()).toEqual(judged.map((j) => key({ prompt: j.instruction, completion: ` ${j.response}`, label: j.score >= 7 })).sort());
    expect(rows.some((r) => r.label === true)).toBe(true);
    const without = join(dir, "kto-none");
    await exportDataset({ input: files.absolute, outDir: without, formats: ["kto"], testSize: 0 });
    expect(readJsonl(join(without, "train.jsonl"))).toEqual([]);
    expect((JSON.parse(readFileSync(join(without, "export.json"), "utf8")) as ExportManifest).counts.skipped).toMatchObject({ "no-pair": judged.length });
  });

  it("splits by prompt: one format writes into the folder itself; same seed, same bytes; no prompt in both splits", async () => {
    const run = async (name: string, seed: number, formats: FormatName[] = ["dpo"]) => {
      const out = join(dir, name);
      await exportDataset({ input: hhhPairs, outDir: out, formats, map: { prompt: "instruction" }, seed, testSize: 0.2 });
      return out;
    };
    const a = await run("hhh-a", 7);
    const b = await run("hhh-b", 7);
    const c = await run("hhh-c", 8);
    expect(readdirSync(a).sort()).toEqual(["README.md", "export.json", "test.jsonl", "train.jsonl"]);
    for (const file of ["train.jsonl", "test.jsonl", "export.json", "README.md"]) {
      expect(readFileSync(join(b, file), "utf8"), file).toBe(readFileSync(join(a, file), "utf8"));
    }
    expect(readFileSync(join(c, "test.jsonl"), "utf8")).not.toBe(readFileSync(join(a, "test.jsonl"), "utf8"));
    for (const out of [a, c]) {
      const train = readJsonl(join(out, "train.jsonl"));
      const test = readJsonl(join(out, "test.jsonl"));
      expect(train.length + test.length).toBe(221);
      const trainPrompts = new Set(train.map((r) => normalizePrompt(String(r.prompt))));
      const testPrompts = new Set(test.map((r) => normalizePrompt(String(r.prompt))));
      expect(trainPrompts.size + testPrompts.size).toBe(102);
      expect([...testPrompts].filter((p) => trainPrompts.has(p))).toEqual([]);
      expect(testPrompts.size).toBe(Math.ceil(0.2 * 102));
      const manifest = JSON.parse(readFileSync(join(out, "export.json"), "utf8")) as ExportManifest;
      expect(manifest.counts).toMatchObject({ trainPrompts: trainPrompts.size, testPrompts: testPrompts.size, train: train.length, test: test.length });
    }
    // The split is shared by all formats of a run: the same prompts are in test for dpo and kto.
    const both = await run("hhh-both", 7, ["dpo", "kto"]);
    const dpoTest = new Set(readJsonl(join(both, "dpo", "test.jsonl")).map((r) => r.prompt));
    const ktoTest = new Set(readJsonl(join(both, "kto", "test.jsonl")).map((r) => r.prompt));
    expect([...ktoTest].sort()).toEqual([...dpoTest].sort());
    expect(readFileSync(join(both, "dpo", "test.jsonl"), "utf8")).toBe(readFileSync(join(a, "test.jsonl"), "utf8"));
  });

  it("--from forces the input kind; --conversational gives message lists for prompt-completion and KTO", async () => {
    const out = join(dir, "forced");
    const summary = await exportDataset({ input: files.revisions, outDir: out, formats: ["kto", "sft-prompt-completion"], from: "pairs", conversational: true, testSize: 0 });
    // As pairs, revisions with a null rejected are invalid.
    expect(summary).toMatchObject({ read: 3, rejected: 2, firstReject: { line: 2, field: "chosen" } });
    const kto = readJsonl(join(out, "kto", "train.jsonl"));
    expect(kto).toEqual([
      { prompt: [{ role: "user", content: "Explain tides." }], completion: [{ role: "assistant", content: "The Moon's gravity." }], label: true },
      { prompt: [{ role: "user", content: "Explain tides." }], completion: [{ role: "assistant", content: "Wind." }], label: false },
    ]);
    expect(JSON.parse(readFileSync(join(out, "kto", "export.json"), "utf8"))).toMatchObject({ trainer: "kto", conversational: true });
    expect(readJsonl(join(out, "sft-prompt-completion", "train.jsonl"))).toEqual([
      { prompt: [{ role: "user", content: "Explain tides." }], completion: [{ role: "assistant", content: "The Moon's gravity." }] },
    ]);
  });

  it("reads judgments back from Parquet (judge object as JSON text) to the same rows", async () => {
    const parquet = join(dir, "judgments-absolute.parquet");
    const writer = await createRecordWriter(parquet);
    for await (const { record } of readRecords(files.absolute)) await writer.write(record);
    await writer.close();
    const fromJsonl = join(dir, "from-jsonl");
    const fromParquet = join(dir, "from-parquet");
    const a = await exportDataset({ input: files.absolute, outDir: fromJsonl, formats: ["criticon-sft"], round: true });
    const b = await exportDataset({ input: parquet, outDir: fromParquet, formats: ["criticon-sft"], round: true });
    expect(b.formats[0]!.counts).toEqual(a.formats[0]!.counts);
    expect(b.formats[0]!.judges).toEqual([
      { backend: "openai", model: "judge-model", template: "criticon", samples: 2, swap: false, rubric: null, params: expect.stringContaining('"temperature":0.7'), records: 14 },
    ]);
    for (const file of ["train.jsonl", "test.jsonl"]) expect(readFileSync(join(fromParquet, file), "utf8")).toBe(readFileSync(join(fromJsonl, file), "utf8"));
  });

  it("a record the template cannot be filled from is skipped as missing-field, with file and line in the rejects", async () => {
    const input = writeJsonl("no-rubric.jsonl", [
      { instruction: "q1", response: "r1", feedback: "fine", score: 4, judge: { template: "prometheus-absolute" } },
      { instruction: "q2", response: "r2", feedback: "poor", score: 2, judge: { template: "prometheus-absolute" }, criteria: "Correct?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" },
    ]);
    const rejects = join(dir, "no-rubric-rejects.jsonl");
    const summary = await exportDataset({ input, outDir: join(dir, "no-rubric"), formats: ["prometheus-sft"], rejects, testSize: 0 });
    expect(summary.rejected).toBe(0);
    expect(summary.formats[0]!.counts).toMatchObject({ train: 1, skipped: { "missing-field": 1 } });
    expect(summary.formats[0]!.firstProblem).toMatchObject({ file: input, line: 1, reason: expect.stringMatching(/missing field "rubric"/) });
    expect(readJsonl(rejects)).toMatchObject([{ file: input, line: 1, format: "prometheus-sft" }]);
    // With --rubric (as given to critic judge, which it overrides the records' own rubric fields for) both are usable.
    const withRubric = await exportDataset({ input, outDir: join(dir, "with-rubric"), formats: ["prometheus-sft"], rubric: "helpfulness", testSize: 0 });
    expect(withRubric.formats[0]!.counts.train).toBe(2);
  });

  it("fails clearly on a missing file or an unknown format", async () => {
    await expect(exportDataset({ input: join(dir, "nope.jsonl"), outDir: join(dir, "x"), formats: ["dpo"] })).rejects.toThrow(/nope\.jsonl: no such file/);
    await expect(exportDataset({ input: files.pairs, outDir: join(dir, "x"), formats: ["dpo", "sft" as FormatName] })).rejects.toThrow(/unknown format "sft"; formats: sft-messages/);
  });
});
