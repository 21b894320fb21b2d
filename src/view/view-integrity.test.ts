/**
 * critic view loses nothing and says so when it cannot: the label scale is the template's, records
 * that share an id keep their labels apart (in the view, meta-eval --gold-file and export --labels
 * alike), a label is answered 200 only when its whole line is on disk, and a judgments file
 * replaced under the view is noticed.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../../test/support/cli.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";
import { exportDataset } from "../export/export.js";
import { metaEval } from "../metaeval/meta-eval.js";
import { labelFileWarnings, readLabelsFile } from "../records/labels.js";
import { startViewCli } from "../cli/view.js";
import { createViewApp } from "./api.js";
import { indexJudgments } from "./judgment-index.js";
import { queryRows } from "./query.js";
import { parseScale } from "./scale.js";
import { openWorkspace, shortNames, type OpenWorkspace } from "./workspace.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "critic-view-integrity-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUBRIC = { criteria: "Is the answer right?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };
const judgment = (id: string | number | undefined, score: number | null, extra: Record<string, unknown> = {}, template = "prometheus-absolute") => ({
  ...(id !== undefined ? { id } : {}),
  instruction: `question ${String(id)}`,
  response: `answer ${String(id)}`,
  feedback: score === null ? null : `feedback ${String(id)}`,
  score,
  ...(score === null ? { error: "no verdict in the output" } : {}),
  judge: { backend: "openai", model: "m", template, raw: "", samples: [], rubric: RUBRIC },
  ...extra,
});

interface Info {
  generation: number;
  scale: { scores: number[]; source: string; warning?: string };
  warnings: string[];
  measureCommand: string[];
  files: Array<{ name: string; short: string; categories: Array<{ name: string }> }>;
}

async function viewOf(ws: OpenWorkspace) {
  const app = createViewApp({ workspace: ws, bootstrap: 0 });
  const get = (p: string, init?: RequestInit) => app.fetch(new Request(`http://127.0.0.1${p}`, init));
  const post = (body: unknown) => get("/api/labels", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const info = async () => (await (await get("/api/info")).json()) as Info;
  const rows = async (query = "") => (await (await get(`/api/rows?limit=50${query}`)).json()) as { generation: number; next?: number; rows: Array<{ row: number; id: string; prompt: string; mine: { score?: number } | null }> };
  return { get, post, info, rows };
}

describe("the label scale is the template's, not the scores the judge happened to give", () => {
  it("Prometheus with only 3s and 4s: 1-5; mt-bench with every judgment failed: 1-10; else the distributions, else --scale", async () => {
    const prometheus = writeJsonl(path.join(dir, "prom.jsonl"), [judgment("p0", 3), judgment("p1", 4), judgment("p2", 4)]);
    const ws = await openWorkspace({ files: [prometheus], labels: path.join(dir, "prom.labels.jsonl"), annotator: "ana" });
    const view = await viewOf(ws);
    expect((await view.info()).scale).toEqual({ scores: [1, 2, 3, 4, 5], source: "template prometheus-absolute" });
    // A human can give the score the judge never gave.
    expect((await view.post({ row: 0, id: "p0", score: 1 })).status).toBe(200);
    ws.dispose();

    const mtBench = writeJsonl(path.join(dir, "mt.jsonl"), [judgment("m0", null, {}, "mt-bench"), judgment("m1", null, {}, "mt-bench")]);
    const mt = await openWorkspace({ files: [mtBench], labels: path.join(dir, "mt.labels.jsonl"), annotator: "ana" });
    expect(mt.scale).toEqual({ scores: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], source: "template mt-bench" });
    mt.dispose();

    const custom = writeJsonl(path.join(dir, "custom.jsonl"), [
      { id: "c0", score: 2, score_distribution: { "0": 0.1, "2": 0.8, "7": 0.1 }, judge: { template: "gone/my-template.yaml" } },
    ]);
    const byDistribution = await openWorkspace({ files: [custom], labels: path.join(dir, "custom.labels.jsonl"), annotator: "ana" });
    expect(byDistribution.scale).toEqual({ scores: [0, 1, 2, 3, 4, 5, 6, 7], source: "the keys of score_distribution" });
    byDistribution.dispose();

    const bare = writeJsonl(path.join(dir, "bare.jsonl"), [{ id: "b0", score: 3 }, { id: "b1", score: 4 }]);
    const guessed = await openWorkspace({ files: [bare], labels: path.join(dir, "bare.labels.jsonl"), annotator: "ana" });
    expect(guessed.scale.warning).toContain("--scale");
    guessed.dispose();
    const lines: string[] = [];
    const running = await startViewCli([bare], { host: "127.0.0.1", port: 0, open: false, annotator: "ana", labels: path.join(dir, "bare.labels.jsonl"), scale: parseScale("1-10") }, (l) => lines.push(l));
    await running.close();
    expect(lines.join("\n")).toContain("label scale: 1-10, from --scale 1-10");
    expect(() => parseScale("10-1")).toThrow(/1-5/);
  });

  it("critic view --scale is a CLI flag that checks its value", async () => {
    assertBuilt();
    const bad = await runCli(["view", "--scale", "high", "--no-open", path.join(dir, "prom.jsonl")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expected a whole-number range like 1-5, got "high"');
  });
});

describe("records that share an id keep their labels apart", () => {
  // Lines 1-6: "a" twice, 1 beside "1", "5" beside a record without an id on 0-based line 5.
  const records = [judgment("a", 4), judgment("a", 2), judgment(1, 5), judgment("1", 1), judgment("5", 3), judgment(undefined, 2), judgment("z", 4)];
  let file: string;
  beforeAll(() => {
    file = writeJsonl(path.join(dir, "dup.jsonl"), records);
  });

  it("the view keys them by line, warns, and a label marks one row only", async () => {
    const index = await indexJudgments(file);
    expect(index.ids).toEqual(["a@line1", "a@line2", "1@line3", "1@line4", "5@line5", "5@line6", "z"]);
    index.dispose();
    const labels = path.join(dir, "dup.labels.jsonl");
    const ws = await openWorkspace({ files: [file], labels, annotator: "ana" });
    const view = await viewOf(ws);
    const warnings = (await view.info()).warnings.join("\n");
    expect(warnings).toContain("3 ids are shared by several records");
    expect(warnings).toContain('"a" on lines 1, 2');
    for (const row of [0, 2, 5]) expect((await view.post({ row, id: ws.indexes[0]!.ids[row], score: 5 })).status).toBe(200);
    const shown = (await view.rows()).rows.map((r) => r.mine?.score ?? null);
    expect(shown).toEqual([5, null, 5, null, null, 5, null]);
    expect(readJsonl<{ id: string }>(labels).map((l) => l.id)).toEqual(["a@line1", "1@line3", "5@line6"]);
    ws.dispose();
  });

  it("meta-eval --gold-file and export --labels join the same way, and say so; a label under a bare shared id is used for none", async () => {
    const labels = writeJsonl(path.join(dir, "dup-gold.labels.jsonl"), [
      { id: "a@line1", annotator: "ana", score: 4, at: "" },
      { id: "1@line3", annotator: "ana", score: 3, note: "partly wrong", at: "" },
      { id: "5@line6", annotator: "ana", score: 2, at: "" },
      { id: "z", annotator: "ana", score: 4, at: "" },
      { id: "a", annotator: "ana", score: 1, note: "which one?", at: "" }, // from before: could be either "a"
    ]);
    const result = await metaEval({ files: [file], goldFile: labels, bootstrap: 0 });
    expect(result.judges[0]!.coverage).toMatchObject({ rows: 7, evaluated: 4 });
    expect(result.warnings?.join("\n")).toContain("3 ids are shared by several records");
    expect(result.warnings?.join("\n")).toContain('1 label names "a", which several records share: not used');

    const out = path.join(dir, "dup-export");
    const summary = await exportDataset({ input: file, outDir: out, formats: ["sft-messages"], labels, testSize: 0 });
    expect(summary.human).toMatchObject({ agreed: 3, corrected: 1 });
    expect(summary.human!.warnings.join("\n")).toContain("3 ids are shared by several records");
    const rows = readJsonl<{ messages: Array<{ content: string }> }>(path.join(out, "train.jsonl"));
    expect(rows.map((r) => r.messages.at(-1)!.content)).toEqual(["feedback a [RESULT] 4", "partly wrong [RESULT] 3", "feedback undefined [RESULT] 2", "feedback z [RESULT] 4"]);

    assertBuilt();
    const cli = await runCli(["meta-eval", file, "--gold-file", labels, "-o", path.join(dir, "dup-report"), "--bootstrap", "0"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stderr).toContain("warning: ");
    expect(cli.stderr).toContain("3 ids are shared by several records");
  });
});

describe("a label is confirmed only when its whole line is on disk", () => {
  it("a labels file whose last line was cut: the next label starts on a new line; readers skip the cut line with a warning", async () => {
    const judgments = writeJsonl(path.join(dir, "cut.jsonl"), [judgment("r0", 4), judgment("r1", 2)]);
    const labels = path.join(dir, "cut.labels.jsonl");
    writeFileSync(labels, `${JSON.stringify({ id: "r0", annotator: "ana", score: 5, at: "" })}\n{"id":"r1","sco`);
    const ws = await openWorkspace({ files: [judgments], labels, annotator: "ana" });
    const view = await viewOf(ws);
    expect((await view.post({ row: 1, id: "r1", score: 3 })).status).toBe(200);
    const lines = readFileSync(labels, "utf8").split("\n");
    expect(lines[1]).toBe('{"id":"r1","sco');
    expect(JSON.parse(lines[2]!)).toMatchObject({ id: "r1", score: 3, annotator: "ana" });
    expect((await view.info()).warnings.join("\n")).toContain("1 damaged line skipped (not JSON, e.g. cut by a crash): line 2");
    ws.dispose();

    const store = readLabelsFile(labels);
    expect(store.get("ana", "r1")?.score).toBe(3);
    expect(labelFileWarnings(store)).toEqual([`${labels}: 1 damaged line skipped (not JSON, e.g. cut by a crash): line 2`]);
    const result = await metaEval({ files: [judgments], goldFile: labels, bootstrap: 0 });
    expect(result.judges[0]!.coverage.evaluated).toBe(2);
    expect(result.warnings).toEqual([`${labels}: 1 damaged line skipped (not JSON, e.g. cut by a crash): line 2`]);
    const summary = await exportDataset({ input: judgments, outDir: path.join(dir, "cut-export"), formats: ["sft-messages"], labels, testSize: 0 });
    expect(summary.human!.warnings).toHaveLength(1);

    // A file cut and never appended to: the readers name the cut last line.
    const cutOnly = path.join(dir, "cut-only.labels.jsonl");
    writeFileSync(cutOnly, `${JSON.stringify({ id: "r0", annotator: "ana", score: 5, at: "" })}\n{"id":"r1"`);
    expect(labelFileWarnings(readLabelsFile(cutOnly))).toEqual([`${cutOnly}: 1 damaged line skipped (not JSON, e.g. cut by a crash): line 2`]);
  });

  it("a full disk: the label is refused (not 200) and no part of its line stays in the file", async () => {
    const mountPoint = path.join(dir, "small-disk");
    mkdirSync(mountPoint);
    let mounted = false;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint], { stdio: "ignore" });
      mounted = true;
    } catch {
      // Not root: /dev/full below refuses every write (no partial one).
    }
    try {
      const judgments = writeJsonl(path.join(dir, "full.jsonl"), [judgment("r0", 4), judgment("r1", 2)]);
      const labels = mounted ? path.join(mountPoint, "labels.jsonl") : "/dev/full";
      if (mounted) {
        // 20 KB of labels first, so that a 60 KB note fits only in part.
        for (let i = 0; i < 100; i++) appendFileSync(labels, `${JSON.stringify({ id: "r0", annotator: "bo", score: 4, note: "x".repeat(150), at: "" })}\n`);
      }
      const before = mounted ? readFileSync(labels) : Buffer.alloc(0);
      const ws = await openWorkspace({ files: [judgments], labels, annotator: "ana" });
      const view = await viewOf(ws);
      const answer = await view.post({ row: 1, id: "r1", score: 3, note: "n".repeat(60 * 1024) });
      expect(answer.status).toBe(500);
      expect(((await answer.json()) as { error: string }).error).toMatch(/wrote \d+ of \d+ bytes .*the label is not saved/);
      if (mounted) {
        expect(readFileSync(labels).equals(before)).toBe(true);
        expect(statSync(labels).size).toBe(before.length);
        // A short label still fits, and is whole.
        expect((await view.post({ row: 1, id: "r1", score: 3 })).status).toBe(200);
        expect(readJsonl(labels).at(-1)).toMatchObject({ id: "r1", score: 3 });
      }
      ws.dispose();
    } finally {
      if (mounted) execFileSync("umount", [mountPoint]);
    }
  });
});

describe("a judgments file replaced under the view", () => {
  it("is indexed again: rows show the new records, and a label for a row of the old file is refused", async () => {
    const file = path.join(dir, "rerun.jsonl");
    writeJsonl(file, [judgment("old0", 4), judgment("old1", 2)]);
    const labels = path.join(dir, "rerun.labels.jsonl");
    const ws = await openWorkspace({ files: [file], labels, annotator: "ana" });
    const view = await viewOf(ws);
    const before = await view.rows();
    expect(before.rows.map((r) => r.id)).toEqual(["old0", "old1"]);
    // A judge run again to the same -o: a new file in its place.
    const next = writeJsonl(path.join(dir, "rerun.next.jsonl"), [judgment("new0", 1), judgment("new1", 5), judgment("new2", 3)]);
    renameSync(next, file);
    const refused = await view.post({ row: 1, id: "old1", generation: before.generation, score: 5 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toContain(`${file} changed on disk since the page was loaded`);
    expect(existsSync(labels)).toBe(false);
    const after = await view.rows();
    expect(after.generation).toBe(before.generation + 1);
    expect(after.rows.map((r) => [r.id, r.prompt])).toEqual([["new0", "question new0"], ["new1", "question new1"], ["new2", "question new2"]]);
    // A page that still holds the old rows: its generation is refused too.
    expect((await view.post({ row: 1, id: "new1", generation: before.generation, score: 5 })).status).toBe(409);
    expect((await view.post({ row: 1, id: "new1", generation: after.generation, score: 5 })).status).toBe(200);
    expect(readJsonl(labels)).toMatchObject([{ id: "new1", score: 5 }]);
    ws.dispose();
  });
});

describe("the table and its queues", () => {
  it("judge columns get the shortest names that tell the files apart", () => {
    expect(shortNames(["judgments-prometheus-7b", "judgments-prometheus-13b"])).toEqual(["7b", "13b"]);
    expect(shortNames(["judgments-gpt4", "judgments-gpt4o"])).toEqual(["gpt4", "gpt4o"]);
    expect(shortNames(["run", "run-2"])).toEqual(["run", "run-2"]);
    expect(shortNames(["judgments"])).toEqual(["judgments"]);
  });

  it("the least-sure queue uses any open file's distributions; the field filter offers only fields with few values; a query opens at my next unlabelled record", async () => {
    const plain = writeJsonl(path.join(dir, "judgments-plain.jsonl"), [0, 1, 2, 3].map((i) => judgment(`q${i}`, 3, { task: i % 2 ? "math" : "code", note: `free text ${i}`, latency: 0.5 + i / 10 })));
    const sure = writeJsonl(path.join(dir, "judgments-sure.jsonl"), [0, 1, 2, 3].map((i) => judgment(`q${i}`, 3, { score_distribution: { "3": [0.9, 0.4, 0.7, 0.95][i], "4": 1 - [0.9, 0.4, 0.7, 0.95][i]! } })));
    const labels = path.join(dir, "queues.labels.jsonl");
    const ws = await openWorkspace({ files: [plain, sure], labels, annotator: "ana" });
    expect([...(await queryRows(ws, { order: "uncertainty" }))]).toEqual([1, 2, 0, 3]);
    const view = await viewOf(ws);
    const info = await view.info();
    expect(info.files.map((f) => f.short)).toEqual(["plain", "sure"]);
    expect(info.files[0]!.categories.map((c) => c.name)).toEqual(["task"]);
    await view.post({ row: 0, id: "q0", score: 2 });
    await view.post({ row: 1, id: "q1", score: 2 });
    expect((await view.rows()).next).toBe(2);
    expect((await view.rows("&order=uncertainty")).next).toBe(1); // rows 1, 2, 0, 3: row 2 is second
    ws.dispose();
  });

  it("the Measure tab's meta-eval command runs as shown", async () => {
    assertBuilt();
    const file = writeJsonl(path.join(dir, "measure.jsonl"), [judgment("m0", 4), judgment("m1", 2), judgment("m2", 5)]);
    const labels = writeJsonl(path.join(dir, "measure dir labels.jsonl"), [
      { id: "m0", annotator: "ana", score: 4, at: "" },
      { id: "m1", annotator: "ana", score: 1, at: "" },
      { id: "m2", annotator: "ana", score: 5, at: "" },
    ]);
    const ws = await openWorkspace({ files: [file], labels, annotator: "ana" });
    const command = (await (await viewOf(ws)).info()).measureCommand;
    ws.dispose();
    expect(command.slice(0, 2)).toEqual(["critic", "meta-eval"]);
    expect(command).toContain("-o");
    const run = await runCli([...command.slice(1), "--bootstrap", "0"]);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(path.join(command[command.indexOf("-o") + 1]!, "metrics.json")).isFile()).toBe(true);
  });
});
