import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseCsv } from "csv-parse/sync";
import { stringify as stringifyCsv } from "csv-stringify/sync";
import { lastUserMessage, startFaultServer, type ChatBody, type FaultServer } from "../../test/support/fault-server.js";
import { readRecords } from "../records/read.js";
import { findQuestionType, loadQuestionTypes } from "./assets.js";
import { criticalQuestions, criticalQuestionsFromRecords } from "./questions.js";
import { readJsonl } from "../../test/support/jsonl.js";

const sharedData = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "critic-questions-"));
const socratic = loadQuestionTypes("socratic");
const walton = loadQuestionTypes("walton");
let server: FaultServer;
/** The scripted classifier's answer for a question. */
let classifierReply: (question: string) => string = () => "clarity";

function reply(body: ChatBody): string {
  const last = lastUserMessage(body);
  if (last.startsWith("Classify the critical question")) return classifierReply(/\nQuestion: ([\s\S]*?)\n\nReply with the type name/.exec(last)![1]!);
  if (last.includes("###Response to evaluate:")) return "Feedback: fine. [RESULT] 4";
  const type = /of the type "([^"]+)"/.exec(last)![1]!;
  return `Question: "Is the ${type} of this argument sound?"\nI hope this helps.`;
}

beforeAll(async () => {
  server = await startFaultServer({ reply });
});
afterAll(async () => server?.close());

const base = () => ({ model: "openai:gen", baseURL: server.baseURL, progress: false as const });
const cqSample = join(sharedData, "critical_questions", "sample.json");
const mturkTest = join(sharedData, "socratiq_mturk", "mturk_test.csv");

describe("critical question generation", () => {
  it("writes one question per distinct Walton scheme of each critical-questions intervention", async () => {
    const output = join(dir, "cq.jsonl");
    const summary = await criticalQuestions({
      ...base(), input: cqSample, output, types: "walton", map: { text: "intervention", type: "schemes" }, store: join(dir, "cq.sqlite"),
    });
    const expected: Array<[string, string]> = [];
    for await (const { record } of readRecords(cqSample)) {
      const types = [...new Set((record.schemes as string[]).map((s) => findQuestionType(walton, s)!.name))];
      for (const t of types) expected.push([String(record.id), t]);
    }
    expect(summary).toMatchObject({ status: "finished", records: 5, rejected: 0, items: 5, written: expected.length, failed: 0 });
    expect(summary.stage).toMatchObject({ mode: "generate", types: "walton", generated: expected.length, failed: 0 });
    const rows = readJsonl(output);
    expect(rows.map((r) => [r.id, r.type])).toEqual(expected);
    for (const row of rows) {
      const type = walton.types.find((t) => t.name === row.type)!;
      expect(row.question).toBe(`Is the ${type.label} of this argument sound?`);
      expect(row.raw).toMatch(/^Question: /);
      expect(row.prompt).toContain(`of the type "${type.label}"`);
      expect(row.prompt).toContain(String(row.text).slice(0, 200));
      expect(row.cqs).toBeDefined(); // the record's own fields stay
    }
  });

  it("takes the type from --type or every type, and rejects types the set does not have", async () => {
    const records = [{ text: "Cats are better than dogs because everyone says so." }];
    const every = [];
    for await (const row of criticalQuestionsFromRecords(records, { ...base(), types: "socratic" })) every.push(row);
    expect(every.map((r) => r.type)).toEqual(socratic.types.map((t) => t.name));
    const one = [];
    for await (const row of criticalQuestionsFromRecords(records, { ...base(), types: "socratic", type: "Assumptions", score: true })) one.push(row);
    expect(one).toEqual([expect.objectContaining({ type: "assumptions", question: "Is the assumptions of this argument sound?", score: 4, feedback: "fine." })]);

    const input = join(dir, "typed.jsonl");
    writeFileSync(input, [{ text: "t", type: "others" }, { text: "t", type: ["clarity", "Reasons/Evidence"] }].map((r) => JSON.stringify(r)).join("\n"));
    const summary = await criticalQuestions({ ...base(), input, output: join(dir, "typed-out.jsonl"), store: join(dir, "q.sqlite") });
    expect(summary).toMatchObject({ rejected: 1, written: 2 });
    expect(readJsonl(summary.rejects!)[0]).toMatchObject({ line: 1, field: "type", reason: expect.stringMatching(/"others" is not one of the socratic types/) });
  });
});

describe("question type classification", () => {
  it("measures the judge's labels against SocratiQ's human labels; an unparseable answer is recorded, not guessed", async () => {
    // The first 40 rows of the real test split, as a CSV of their own.
    const rows = parseCsv(readFileSync(mturkTest, "utf8"), { columns: true }) as Array<Record<string, string>>;
    const subset = rows.slice(0, 40);
    const input = join(dir, "mturk-40.csv");
    writeFileSync(input, stringifyCsv(subset, { header: true }));
    const gold = new Map(subset.map((r) => [r.question!, r.label!]));
    const order = subset.map((r) => r.question!);
    // Scripted judge: every 4th question unparseable, every 4th+1 wrong, the rest right.
    classifierReply = (question) => {
      const i = order.indexOf(question);
      const label = gold.get(question)!;
      if (i % 4 === 0) return "I am not sure.";
      if (i % 4 === 1) return label === "clarity" ? "assumptions" : "clarity";
      return label === "others" ? "clarity" : `The type is ${label}.`;
    };
    const output = join(dir, "classified.jsonl");
    const summary = await criticalQuestions({
      ...base(), input, output, classify: true, gold: "label", map: { text: "thought" }, maxRetries: 1, store: join(dir, "cls.sqlite"),
    });
    const withGold = subset.filter((r) => r.label !== "others");
    const expectedCorrect = withGold.filter((r) => order.indexOf(r.question!) % 4 >= 2).length;
    const report = summary.stage.classification!;
    expect(report).toMatchObject({
      items: 40, withGold: withGold.length, goldOutsideTypes: 40 - withGold.length, correct: expectedCorrect,
      unclassified: 10, classified: 30,
    });
    expect(report.accuracy).toBeCloseTo(expectedCorrect / withGold.length, 10);
    expect(Object.values(report.perType).reduce((n, t) => n + t.gold, 0)).toBe(withGold.length);
    expect(report.confusion.labels.at(-1)).toBe("(unclassified)");

    const out = readJsonl(output);
    expect(out.map((r) => r.question)).toEqual(order);
    expect(out[0]).toMatchObject({ predicted_type: null, error: expect.stringMatching(/unparseable classification after 2 attempt/) });
    expect((out[0]!.classifier as { failures: unknown[] }).failures).toHaveLength(2);
    expect(out[2]).toMatchObject({ predicted_type: gold.get(order[2]!) === "others" ? "clarity" : gold.get(order[2]!) });
    // The classifier saw the text and every type; no grammar crosses the OpenAI wire.
    const request = server.requests.find((r) => lastUserMessage(r.body).startsWith("Classify"))!;
    for (const t of socratic.types) expect(lastUserMessage(request.body)).toContain(`- ${t.name}: `);
    expect(lastUserMessage(request.body)).toContain(subset[0]!.thought!.slice(0, 100));
  });
});

describe("run again after outputs that did not parse or were empty", () => {
  it("draws new samples for them instead of reading the same failures back from the run store", async () => {
    // Seeds 0 and 1 give nothing usable; a new sample (seed 2 on) does.
    const flaky = await startFaultServer({
      reply: (body) => {
        const usable = Number(body.seed ?? 0) >= 2;
        if (lastUserMessage(body).startsWith("Classify the critical question")) return usable ? "clarity" : "no idea";
        return usable ? 'Question: "What do you mean?"' : "";
      },
    });
    try {
      const store = join(dir, "flaky.sqlite");
      const opts = { model: "openai:gen", baseURL: flaky.baseURL, progress: false as const, maxRetries: 1, store };
      const toClassify = join(dir, "flaky-classify.jsonl");
      writeFileSync(toClassify, `${JSON.stringify({ question: "Why?" })}\n`);
      const classifyOut = join(dir, "flaky-classified.jsonl");
      const first = await criticalQuestions({ ...opts, input: toClassify, output: classifyOut, classify: true });
      expect(first).toMatchObject({ failed: 1 });
      const again = await criticalQuestions({ ...opts, input: toClassify, output: classifyOut, classify: true });
      expect(again).toMatchObject({ failed: 0 });
      const [row] = readJsonl(classifyOut);
      expect(row).toMatchObject({ predicted_type: "clarity", classifier: { attempts: 3, failures: [{ raw: "no idea" }, { raw: "no idea" }] } });

      const texts = join(dir, "flaky-texts.jsonl");
      writeFileSync(texts, `${JSON.stringify({ text: "Cats rule.", type: "clarity" })}\n`);
      const generated = join(dir, "flaky-generated.jsonl");
      expect(await criticalQuestions({ ...opts, input: texts, output: generated })).toMatchObject({ failed: 1 });
      const before = flaky.count;
      expect(await criticalQuestions({ ...opts, input: texts, output: generated })).toMatchObject({ failed: 0 });
      expect(flaky.count - before).toBe(1);
      expect(readJsonl(generated)[0]).toMatchObject({ question: "What do you mean?" });
    } finally {
      await flaky.close();
    }
  });
});
