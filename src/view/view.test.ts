import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";
import { runCli, assertBuilt } from "../../test/support/cli.js";
import { LabelStore, readLabelsFile } from "../records/labels.js";
import { createRecordWriter } from "../records/write.js";
import { pearson } from "../metaeval/correlation.js";
import { createViewApp } from "./api.js";
import { indexJudgments, readRows } from "./judgment-index.js";
import { queryRows } from "./query.js";
import { startView } from "./start.js";
import { defaultLabelsFile, openWorkspace, type OpenWorkspace } from "./workspace.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "critic-view-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUBRIC = { criteria: "Is the answer right?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };

const judgment = (id: string, score: number | null, extra: Record<string, unknown> = {}) => ({
  id,
  instruction: `question ${id}`,
  response: `answer ${id}`,
  feedback: score === null ? null : `feedback ${id}`,
  score,
  ...(score === null ? { error: "no [RESULT] in the output" } : {}),
  judge: { backend: "openai", model: "m", template: "prometheus-absolute", raw: `x [RESULT] ${score}`, samples: [], rubric: RUBRIC },
  ...extra,
});

describe("judgment index", () => {
  it("indexes JSONL in place: offsets, verdicts, failures, unreadable lines, ids, small fields", async () => {
    const file = path.join(dir, "a.jsonl");
    writeFileSync(
      file,
      [
        `\uFEFF${JSON.stringify(judgment("a", 4, { task: "math", score_distribution: { "4": 0.7, "5": 0.3 } }))}`,
        "",
        JSON.stringify(judgment("b", null, { task: "code" })),
        "{not json",
        JSON.stringify({ instruction: "no id", score: "2", task: "math" }),
      ].join("\n") + "\n",
    );
    const index = await indexJudgments(file);
    try {
      expect(index.rows).toBe(4);
      expect([...index.lines]).toEqual([1, 3, 4, 5]);
      expect(index.ids).toEqual(["a", "b", "3", "4"]); // no id field: the 0-based line number
      expect([...index.scores].map((s) => (Number.isNaN(s) ? null : s))).toEqual([4, null, null, 2]);
      expect([...index.failed]).toEqual([0, 1, 1, 0]);
      expect(index.unreadable).toBe(1);
      expect(index.uncertainty[0]).toBeCloseTo(0.3, 6);
      expect(index.categories.find((c) => c.name === "task")?.values).toEqual(["math", "code"]);
      const [first, , bad] = readRows(index, [0, 1, 2]);
      expect(first).toMatchObject({ id: "a", score: 4 });
      expect(bad).toEqual({ unreadable: "{not json" });
    } finally {
      index.dispose();
    }
  });

  it("serves Parquet through a JSONL copy, a row number for a line", async () => {
    const file = path.join(dir, "c.parquet");
    const writer = await createRecordWriter(file, { format: "parquet" });
    for (const [i, score] of [4, 2, 5].entries()) await writer.write(judgment(`p${i}`, score));
    await writer.close();
    const index = await indexJudgments(file);
    try {
      expect(index.rows).toBe(3);
      expect(index.ids).toEqual(["p0", "p1", "p2"]);
      expect([...index.scores]).toEqual([4, 2, 5]);
      expect(readRows(index, [2])[0]).toMatchObject({ id: "p2", feedback: "feedback p2" });
    } finally {
      index.dispose();
    }
  });

  it("serves CSV through a JSONL copy, keeping the CSV's line numbers", async () => {
    const file = path.join(dir, "b.csv");
    writeFileSync(file, "id,instruction,response,score\nx,\"multi\nline\",r,3\ny,q,r,5\n");
    const index = await indexJudgments(file);
    try {
      expect(index.rows).toBe(2);
      expect([...index.lines]).toEqual([2, 4]);
      expect(readRows(index, [1])[0]).toMatchObject({ id: "y", score: "5" });
      expect([...index.scores]).toEqual([3, 5]);
    } finally {
      index.dispose();
    }
  });
});

describe("queries and queues", () => {
  let ws: OpenWorkspace;
  beforeAll(async () => {
    const a = writeJsonl(path.join(dir, "judge-a.jsonl"), [judgment("r0", 1), judgment("r1", 5, { score_distribution: { "5": 0.55, "4": 0.45 } }), judgment("r2", 3, { score_distribution: { "3": 0.9, "2": 0.1 } }), judgment("r3", null)]);
    // Judge B has the records in another order and one more: lined up by id.
    const b = writeJsonl(path.join(dir, "judge-b.jsonl"), [judgment("r3", 2), judgment("r2", 3), judgment("r1", 1), judgment("r0", 2), judgment("r9", 4)]);
    ws = await openWorkspace({ files: [a, b], labels: path.join(dir, "q.labels.jsonl"), annotator: "ana" });
  });
  afterAll(() => ws.dispose());

  it("filters by score range, failure, text, and what I labelled", async () => {
    expect([...(await queryRows(ws, { score: "3-5" }))]).toEqual([1, 2]);
    expect([...(await queryRows(ws, { failed: true }))]).toEqual([3]);
    expect([...(await queryRows(ws, { q: "QUESTION R2" }))]).toEqual([2]);
    ws.labels.append({ id: "r1", annotator: "ana", score: 2 });
    ws.labels.append({ id: "r0", annotator: "bo", score: 1 });
    expect([...(await queryRows(ws, { labelled: false }))]).toEqual([0, 2, 3]);
    await expect(queryRows(ws, { score: "high" })).rejects.toThrow(/score filter/);
  });

  it("orders: scores, the judge's uncertainty, judges apart, judge vs humans, a seeded shuffle", async () => {
    expect([...(await queryRows(ws, { order: "-score" }))]).toEqual([1, 2, 0, 3]);
    // 1 - p(own verdict): r1 0.45, r2 0.1; rows without a distribution last.
    expect([...(await queryRows(ws, { order: "uncertainty" }))]).toEqual([1, 2, 0, 3]);
    // |A - B|: r1 4, r0 1, r2 0; r3 has one verdict.
    expect([...(await queryRows(ws, { order: "disagree-judges" }))]).toEqual([1, 0, 2, 3]);
    // r1: judge 5 vs human 2; r0: judge 1 vs bo 1.
    expect([...(await queryRows(ws, { order: "disagree-labels" }))]).toEqual([1, 0, 2, 3]);
    const shuffled = [...(await queryRows(ws, { order: "random", seed: 3 }))];
    expect([...shuffled].sort()).toEqual([0, 1, 2, 3]);
    expect([...(await queryRows(ws, { order: "random", seed: 3 }))]).toEqual(shuffled);
  });

  it("the API: pages, records of both judges, labels, agreement", async () => {
    const app = createViewApp({ workspace: ws });
    const get = (p: string, init?: RequestInit) => app.fetch(new Request(`http://127.0.0.1${p}`, init));
    const info = (await (await get("/api/info")).json()) as { files: Array<{ matched: number }>; alignedBy: string };
    expect(info.alignedBy).toBe("id");
    expect(info.files.map((f) => f.matched)).toEqual([4, 4]);
    const page = (await (await get("/api/rows?order=-score&offset=1&limit=2")).json()) as { total: number; rows: Array<{ id: string; verdicts: Array<{ score: number | null }> }> };
    expect(page.total).toBe(4);
    expect(page.rows.map((r) => [r.id, r.verdicts.map((v) => v.score)])).toEqual([["r2", [3, 3]], ["r0", [1, 2]]]);
    const record = (await (await get("/api/record/1")).json()) as { files: Array<{ record: { id: string; score: number }; prompt: { messages?: Array<{ content: string }>; error?: string } }> };
    expect(record.files.map((f) => [f.record.id, f.record.score])).toEqual([["r1", 5], ["r1", 1]]);
    // The prompt the judge saw, rendered again from the recorded template and rubric.
    const prompt = record.files[0]!.prompt.messages?.map((m) => m.content).join("\n") ?? record.files[0]!.prompt.error;
    expect(prompt).toContain("question r1");
    expect(prompt).toContain("Is the answer right?");

    const post = (body: unknown, type = "application/json") => get("/api/labels", { method: "POST", headers: { "Content-Type": type }, body: JSON.stringify(body) });
    expect((await post({ row: 0, id: "r0", score: 3 }, "text/plain")).status).toBe(415);
    expect((await post({ row: 99, id: "r0", score: 3 })).status).toBe(400);
    expect((await post({ row: 0, id: "r0", score: "3" })).status).toBe(400);
    expect((await post({ row: 0, id: "r0", winner: "C" })).status).toBe(400);
    expect((await post({ row: 0, score: 3 })).status).toBe(400); // which record the label is for
    expect((await post({ row: 0, id: "r1", score: 3 })).status).toBe(409); // not the record on that row
    const saved = await post({ row: 0, id: "r0", score: 2, note: "  too short  " });
    expect(saved.status).toBe(200);
    expect(readJsonl(ws.labels.file).at(-1)).toMatchObject({ id: "r0", score: 2, annotator: "ana", note: "too short" });
    const agreement = (await (await get("/api/agreement")).json()) as { agreement: { names: string[]; fleiss: { items: number } } };
    expect(agreement.agreement.names).toEqual(["ana", "bo"]);
    expect(agreement.agreement.fleiss.items).toBe(1); // r0: ana 2, bo 1
    expect((await get("/api/record/17")).status).toBe(404);
  });

  it("answers only loopback names without a key, and only with the key when there is one", async () => {
    const open = createViewApp({ workspace: ws });
    expect((await open.fetch(new Request("http://evil.example/api/info"))).status).toBe(421);
    expect((await open.fetch(new Request("http://localhost:4173/api/info"))).status).toBe(200);
    const keyed = createViewApp({ workspace: ws, apiKey: "s3cret" });
    expect((await keyed.fetch(new Request("http://10.1.2.3/api/info"))).status).toBe(401);
    expect((await keyed.fetch(new Request("http://10.1.2.3/api/info", { headers: { Authorization: "Bearer nope" } }))).status).toBe(401);
    expect((await keyed.fetch(new Request("http://10.1.2.3/api/info", { headers: { Authorization: "Bearer s3cret" } }))).status).toBe(200);
    await expect(startView({ files: [ws.indexes[0]!.file], annotator: "x", host: "0.0.0.0", port: 0 })).rejects.toThrow(/API key/);
  });
});

describe("labels file", () => {
  it("is shared by annotators: each store sees the other's lines; the last line per annotator and id wins", () => {
    const file = path.join(dir, "shared.labels.jsonl");
    const ana = new LabelStore(file);
    const bo = new LabelStore(file);
    ana.append({ id: "1", annotator: "ana", score: 4 });
    bo.append({ id: "1", annotator: "bo", score: 2 });
    ana.append({ id: "1", annotator: "ana", score: 5 });
    ana.append({ id: "2", annotator: "ana", winner: "tie" });
    ana.append({ id: "2", annotator: "ana" }); // removed
    bo.refresh();
    expect(bo.labelsOf("1").map((l) => [l.annotator, l.score])).toEqual([["ana", 5], ["bo", 2]]);
    expect(bo.get("ana", "2")).toBeUndefined();
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(5);
  });

  it("a bad line names the file and line when read as gold", () => {
    const file = path.join(dir, "bad.labels.jsonl");
    writeFileSync(file, `${JSON.stringify({ id: "1", annotator: "ana", score: 3 })}\n${JSON.stringify({ id: "2", annotator: "ana", score: "high" })}\n`);
    expect(() => readLabelsFile(file)).toThrow(`${file}:2: field "score" is not a number: "high"`);
    expect(defaultLabelsFile("/x/run.judgments.parquet")).toBe("/x/run.judgments.labels.jsonl");
  });
});

describe("critic meta-eval --gold-file", () => {
  beforeAll(() => assertBuilt());

  it("measures a judge against the labels of two annotators, joined by id", async () => {
    const scores = [5, 3, 4, 1, 2, 4];
    const judgments = writeJsonl(path.join(dir, "m.jsonl"), scores.map((s, i) => judgment(`m${i}`, s)));
    const labels = path.join(dir, "m.labels.jsonl");
    const ana = [4, 3, 5, 1, 2, null];
    const bo = [5, 2, 4, 2, 2, null];
    writeJsonl(labels, [
      ...ana.flatMap((s, i) => (s === null ? [] : [{ id: `m${i}`, annotator: "ana", score: s, at: "" }])),
      ...bo.flatMap((s, i) => (s === null ? [] : [{ id: `m${i}`, annotator: "bo", score: s, at: "" }])),
      { id: "m5", annotator: "ana", note: "unsure", score: null, at: "" },
    ]);
    const out = path.join(dir, "m-report");
    const result = await runCli(["meta-eval", judgments, "--gold-file", labels, "-o", out, "--bootstrap", "0"]);
    expect(result.code, result.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as {
      gold: string[];
      raters: { names: string[] };
      judges: Array<{ coverage: { evaluated: number; missingGold: number }; metrics: { pearson: { value: number } } }>;
      notes: string[];
    };
    expect(metrics.gold).toEqual(["human:ana", "human:bo"]);
    expect(metrics.raters.names).toEqual(["human:ana", "human:bo"]);
    const gold = ana.slice(0, 5).map((a, i) => ((a as number) + (bo[i] as number)) / 2);
    expect(metrics.judges[0]!.coverage).toMatchObject({ evaluated: 5, missingGold: 1 });
    expect(metrics.judges[0]!.metrics.pearson.value).toBeCloseTo(pearson({ x: scores.slice(0, 5), y: gold }).value as number, 10);
    expect(metrics.notes.join(" ")).toContain("5 records labelled by 2 annotators (ana, bo)");

    const both = await runCli(["meta-eval", judgments, "--gold-file", labels, "--gold", "x", "-o", out]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("--gold or --gold-file, not both");
    const none = await runCli(["meta-eval", judgments, "-o", out]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("--gold-file");
  });
});
