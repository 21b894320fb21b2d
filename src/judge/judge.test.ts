import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../backends/embedded.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { readRecords } from "../records/read.js";
import { startFaultServer, type FaultServer } from "../../test/support/fault-server.js";
import { judge, judgeRecords } from "./judge.js";
import { readJsonl } from "../../test/support/jsonl.js";

const dir = mkdtempSync(join(tmpdir(), "critic-judge-"));
let server: FaultServer;
let embedded: EmbeddedBackend;

beforeAll(async () => {
  server = await startFaultServer();
  embedded = await createEmbeddedBackend({ modelPath: await ensureTinyModel(), parallel: 2, threads: TINY_MODEL_THREADS, contextSize: 2048 });
});
afterAll(async () => {
  await server?.close();
  await embedded?.dispose();
});

function jsonl(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

describe("judge() over files", () => {
  it("rejects bad records with file, line and field, and judges the rest in order", async () => {
    const input = jsonl("mixed.jsonl", [
      JSON.stringify({ id: "a", instruction: "q1", response: "r1" }),
      JSON.stringify({ id: "b", instruction: "q2" }),
      "{not json",
      JSON.stringify({ id: "c", instruction: "q3", response: { nested: true } }),
      JSON.stringify({ id: "d", instruction: "q4", response: 4 }),
    ]);
    const output = join(dir, "mixed-out.jsonl");
    const summary = await judge({
      input, output, model: "openai:judge", baseURL: server.baseURL, rubric: "helpfulness",
      store: join(dir, "store.sqlite"), progress: false,
    });
    // judged + failed + rejected = records: the unreadable line counts as a record too.
    expect(summary).toMatchObject({ status: "finished", records: 5, rejected: 3, judged: 2, failed: 0 });
    expect(readJsonl(output).map((j) => [j.id, j.response])).toEqual([["a", "r1"], ["d", "4"]]);
    const rejects = readJsonl(summary.rejects!);
    expect(rejects.map((r) => [r.line, r.field ?? null])).toEqual([[2, "response"], [3, null], [4, "response"]]);
    expect(rejects.every((r) => r.file === input)).toBe(true);
    expect(String(rejects[0]!.reason)).toMatch(/missing field "response"/);
    expect(String(rejects[1]!.reason)).toMatch(/invalid JSON/);
  });

  it("reads CSV with --map and writes Parquet", async () => {
    const input = join(dir, "data.csv");
    writeFileSync(input, "q,a,criteria,s1,s2,s3,s4,s5\nWhat?,This.,Is it right?,no,meh,ok,good,great\n");
    const output = join(dir, "out.parquet");
    const summary = await judge({
      input, output, model: "openai:judge", baseURL: server.baseURL, progress: false, store: join(dir, "store.sqlite"),
      map: { instruction: "q", response: "a", score1_description: "s1", score2_description: "s2", score3_description: "s3", score4_description: "s4", score5_description: "s5" },
    });
    expect(summary.judged).toBe(1);
    const rows = [];
    for await (const row of readRecords(output)) rows.push(row.record);
    expect(rows[0]).toMatchObject({ instruction: "What?", response: "This.", score: expect.any(Number) });
    expect(JSON.parse(String(rows[0]!.judge))).toMatchObject({ template: "prometheus-absolute", backend: "openai" });
    const prompt = server.requests.at(-1)!.body.messages!.at(-1)!.content;
    expect(prompt).toContain("[Is it right?]\nScore 1: no\n");
  });

  it("grades for real on the embedded tiny model: the grammar makes every output parse", async () => {
    const input = jsonl("embedded.jsonl", [0, 1, 2].map((i) => JSON.stringify({ instruction: `Question ${i}?`, response: `Answer ${i}.` })));
    const output = join(dir, "embedded-out.jsonl");
    const summary = await judge({ input, output, model: embedded, template: "criticon", params: { maxTokens: 80 }, progress: false, store: join(dir, "emb.sqlite") });
    expect(summary).toMatchObject({ judged: 3, failed: 0, parseFailures: 0 });
    for (const j of readJsonl(output)) {
      expect(j.score).toBeGreaterThanOrEqual(1);
      expect(j.score).toBeLessThanOrEqual(10);
      expect(String((j.judge as { raw: string }).raw)).toMatch(/\[SCORE\] (10|[1-9])$/);
      // Every judgment knows how sure it is: a distribution over the whole 1-10 scale, and its mean.
      const d = j.score_distribution as Record<string, number>;
      expect(Object.keys(d).sort((a, b) => Number(a) - Number(b))).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
      expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(j.score_expected).toBeCloseTo(Object.entries(d).reduce((sum, [k, p]) => sum + Number(k) * p, 0), 3);
    }
    expect(existsSync(`${output}.partial`)).toBe(false);
    expect(summary.withoutDistribution).toBe(0);
  });

  it("grades Selene's Yes/No classification on the embedded model: Yes is 1, No 0, in the score and its distribution", async () => {
    const records = [0, 1].map((i) => ({
      instruction: `Question ${i}?`, response: `Answer ${i}.`, criteria: "Is the answer supported?",
      yes_description: "It is supported.", no_description: "It is not supported.",
    }));
    const out = [];
    for await (const j of judgeRecords(records, { model: embedded, template: "selene-classification", params: { maxTokens: 80 } })) out.push(j);
    expect(out).toHaveLength(2);
    for (const j of out) {
      const raw = j.judge.samples[0]!.raw ?? "";
      expect(raw).toMatch(/\*\*Result:\*\* (Yes|No)$/);
      expect(j.score).toBe(raw.endsWith("Yes") ? 1 : 0);
      const d = j.score_distribution!;
      expect(Object.keys(d).sort()).toEqual(["0", "1"]);
      expect(d["0"]! + d["1"]!).toBeCloseTo(1, 4);
      expect(j.score_expected).toBeCloseTo(d["1"]!, 3);
    }
  });

  it("reasoning: true gives any template a bounded <think> block before its verdict; the verdict after it parses and its distribution is read", async () => {
    const records = [0, 1].map((i) => ({ instruction: `Question ${i}?`, response: `Answer ${i}.` }));
    const out = [];
    for await (const j of judgeRecords(records, { model: embedded, template: "mt-bench", reasoning: true, params: { maxTokens: 120, temperature: 1, seed: 3 } })) out.push(j);
    expect(out).toHaveLength(2);
    for (const j of out) {
      const raw = j.judge.samples[0]!.raw ?? "";
      // 120 tokens leave 104 characters: three quarters (78) for the reasoning, the rest for the feedback.
      expect(raw).toMatch(/^(?:<think>)?[^<]{1,78}<\/think>\n\n[^[\]]{1,26}\n\nRating: \[\[(10|[1-9])\]\]$/);
      expect(j.score).toBe(Number(/\[\[(\d+)\]\]$/.exec(raw)![1]));
      const d = j.score_distribution!;
      expect(Object.keys(d)).toHaveLength(10);
      expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  it("compares pairs in both orders on the embedded model and reports position consistency", async () => {
    const records = [{ instruction: "Pick one.", response_a: "first", response_b: "second" }, { instruction: "Again.", response_a: "x", response_b: "y" }];
    const out = [];
    for await (const j of judgeRecords(records, { model: embedded, mode: "pairwise", rubric: "helpfulness", swap: true, params: { maxTokens: 60 } })) out.push(j);
    expect(out).toHaveLength(2);
    for (const j of out) {
      expect(["A", "B", "tie"]).toContain(j.winner);
      const swap = j.judge.samples[0]!.swap!;
      expect(j.winner).toBe(swap.consistent ? swap.original : "tie");
      // Both orders' probabilities, mapped to the record's labels and averaged.
      const d = j.winner_distribution!;
      expect(Object.keys(d).sort()).toEqual(["A", "B"]);
      expect(d.A! + d.B!).toBeCloseTo(1, 5);
    }
  });
});

describe("judgeRecords() with a bad record", () => {
  it("yields an error judgment for it, in its place, and judges the records around it", async () => {
    const records = [
      { id: 1, instruction: "q1", response: "r1" },
      { id: 2, instruction: "q2" },
      { id: 3, instruction: "q3", response: "r3" },
      { id: 4, response: "r4" },
    ];
    const out = [];
    for await (const j of judgeRecords(records, { model: "openai:judge", baseURL: server.baseURL, rubric: "helpfulness" })) out.push(j);
    expect(out.map((j) => j.id)).toEqual([1, 2, 3, 4]);
    expect([out[0]!.score, out[2]!.score].every((s) => typeof s === "number")).toBe(true);
    expect(out[1]).toMatchObject({ score: null, feedback: null, error: expect.stringMatching(/^record 2: .*response/) });
    expect(out[3]).toMatchObject({ score: null, error: expect.stringMatching(/^record 4: .*instruction/) });
    expect(out[1]!.judge.calls).toBe(0);
  });
});

describe("judge() through critic's own server", () => {
  it("grades with the OpenAI-compatible backend against the embedded model served over real HTTP", async () => {
    const { startServer } = await import("../server/index.js");
    const served = await startServer({ backend: embedded, modelName: "tiny-judge", port: 0, apiKey: "secret-key" });
    const previous = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "secret-key";
    try {
      const input = jsonl("served.jsonl", [0, 1].map((i) => JSON.stringify({ instruction: `Q${i}`, response: `A${i}` })));
      const output = join(dir, "served-out.jsonl");
      const summary = await judge({
        input, output, model: "openai:tiny-judge", baseURL: `${served.url}/v1`, rubric: "honesty",
        params: { maxTokens: 64 }, progress: false, store: join(dir, "served.sqlite"),
      });
      // No grammar crosses the OpenAI wire, so the tiny model's gibberish may not parse:
      // what must hold is that every record is accounted for, parsed or recorded as a failure.
      expect(summary.judged + summary.failed).toBe(2);
      expect(summary.calls).toBeGreaterThanOrEqual(2);
      expect(summary.backendErrors).toBe(0);
      for (const j of readJsonl(output)) {
        expect(j.judge).toMatchObject({ backend: "openai", model: "tiny-judge" });
        if (j.score === null) expect(j.error).toMatch(/unparseable/);
        else expect([1, 2, 3, 4, 5]).toContain(j.score);
      }
    } finally {
      if (previous === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = previous;
      await served.close();
    }
  });
});

describe("judge() run again after outputs that did not parse", () => {
  it("draws new samples for them instead of reading the same failures back from the run store, and keeps the old outputs", async () => {
    // Seeds 0 and 1 give output without a verdict; a new sample (seed 2 on) parses.
    const flaky = await startFaultServer({
      reply: (body) => (Number(body.seed ?? 0) < 2 ? "I would rather not say." : "Feedback: fine. [RESULT] 4"),
    });
    try {
      const input = jsonl("flaky.jsonl", [JSON.stringify({ id: "f", instruction: "q", response: "r" })]);
      const output = join(dir, "flaky-out.jsonl");
      const options = { input, output, model: "openai:judge", baseURL: flaky.baseURL, rubric: "helpfulness", maxRetries: 1, store: join(dir, "flaky.sqlite"), progress: false } as const;
      const first = await judge(options);
      expect(first).toMatchObject({ judged: 0, failed: 1, parseFailures: 2 });
      expect(flaky.count).toBe(2);

      const again = await judge(options);
      expect(again).toMatchObject({ judged: 1, failed: 0 });
      // The two failed outputs come from the store; one new sample is drawn, with a new seed.
      expect(again).toMatchObject({ calls: 3, cachedCalls: 2 });
      expect(flaky.count).toBe(3);
      expect(flaky.requests.at(-1)!.body.seed).toBe(2);
      const [judgment] = readJsonl(output) as Array<{ score: number; judge: { samples: Array<{ failures?: Array<{ raw: string }> }> } }>;
      expect(judgment!.score).toBe(4);
      expect(judgment!.judge.samples[0]!.failures!.map((f) => f.raw)).toEqual(["I would rather not say.", "I would rather not say."]);

      // A third run reads the answer back: nothing new is paid.
      const third = await judge(options);
      expect(third).toMatchObject({ judged: 1, failed: 0, cachedCalls: 3 });
      expect(flaky.count).toBe(3);
    } finally {
      await flaky.close();
    }
  });
});
