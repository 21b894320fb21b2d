import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { getParser } from "../parse/index.js";
import {
  ABS_SYSTEM_PROMPT, CRITICON_INSTRUCTION_TEMPLATE, CRITICON_SYSTEM_PROMPT, PROMETHEUS_RELATIVE_PROMPT_WO_REF, REL_SYSTEM_PROMPT,
  getTemplate,
} from "../templates/index.js";
import type { OutputFormat } from "../templates/types.js";
import { critiqueItem, critiqueTarget } from "./critique.js";
import { alpacaText } from "./alpaca.js";
import { buildRows, sftItem } from "./formats.js";
import { sftMessagesRowSchema } from "./schemas.js";
import { classifyRecord } from "./sources.js";
import type { Example, SftItem } from "./types.js";

const dataDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/data/prometheus_eval");

function example(record: Record<string, unknown>): Example {
  const c = classifyRecord(record);
  if (c.status !== "example") throw new Error(`not an example: ${JSON.stringify(c)}`);
  return c.example;
}

function item(result: SftItem | { skip: string }): SftItem {
  if ("skip" in result) throw new Error(`skipped: ${JSON.stringify(result)}`);
  return result;
}

const judge = (template: string) => ({ backend: "openai", model: "judge-1", template, raw: "", samples: [{}], tokens: { prompt: 1, completion: 1 }, latencyMs: 1, cached: false, calls: 1 });

describe("criticon-sft", () => {
  it("renders seed 000's system prompt and critique template byte for byte, target `{feedback} [SCORE] {score}`", () => {
    const record = {
      instruction: "Name a {prime} number.",
      response: "7 is prime.\n\nIt has no divisors but 1 and 7.",
      feedback: "Correct and concise.",
      score: 9,
      judge: judge("criticon"),
    };
    const got = item(sftItem("criticon-sft", example(record)));
    // Built independently of the renderer: split/join on the literal placeholders.
    const user = CRITICON_INSTRUCTION_TEMPLATE.split("{instruction}").join(record.instruction).split("{response}").join(record.response);
    expect(got.prompt).toEqual([
      { role: "system", content: CRITICON_SYSTEM_PROMPT },
      { role: "user", content: user },
    ]);
    expect(got.prompt[1]!.content.endsWith("### Response:\n7 is prime.\n\nIt has no divisors but 1 and 7.\n\n### Feedback:\n")).toBe(true);
    expect(got.completion).toBe("Correct and concise. [SCORE] 9");
    expect(CRITICON_SYSTEM_PROMPT).toBe(
      "You are a critical teacher that provides specific, concise and constructive feedback in plain language, together with your score.",
    );
    const rows = buildRows("criticon-sft", example(record));
    expect("rows" in rows && sftMessagesRowSchema.safeParse(rows.rows[0]).success).toBe(true);
  });

  it("skips a judgment made on Prometheus' 1-5 scale rather than mislabel it on Criticon's 1-10", () => {
    const record = { instruction: "q", response: "r", feedback: "ok", score: 4, judge: judge("prometheus-absolute") };
    expect(sftItem("criticon-sft", example(record))).toMatchObject({ skip: "scale-mismatch" });
  });
});

describe("prometheus-sft", () => {
  /** Splits a prometheus-eval benchmark prompt back into record fields (as published-prompts.test.ts does). */
  function fieldsOf(prompt: string): Record<string, string> {
    const between = (start: string, end: string) => {
      const from = prompt.indexOf(start);
      return prompt.slice(from + start.length, prompt.indexOf(end, from + start.length));
    };
    const rubric = /^\[(.*)\]\nScore 1: (.*)\nScore 2: (.*)\nScore 3: (.*)\nScore 4: (.*)\nScore 5: (.*)$/s.exec(between("\n\n###Score Rubrics:\n", "\n\n###Feedback: "))!;
    return {
      instruction: between("###The instruction to evaluate:\n", "\n\n###Response to evaluate:\n"),
      response: between("\n\n###Response to evaluate:\n", "\n\n###Reference Answer (Score 5):\n"),
      reference_answer: between("\n\n###Reference Answer (Score 5):\n", "\n\n###Score Rubrics:\n"),
      criteria: rubric[1]!,
      score1_description: rubric[2]!,
      score2_description: rubric[3]!,
      score3_description: rubric[4]!,
      score4_description: rubric[5]!,
      score5_description: rubric[6]!,
    };
  }

  const rows = JSON.parse(fs.readFileSync(path.join(dataDir, "mt_bench_eval.json"), "utf8")) as Array<{ instruction: string; gpt4_score: number[]; gpt4_feedback: string[] }>;

  it("gives back prometheus-eval's own MT-Bench prompts byte for byte, with `{feedback} [RESULT] {score}` targets", () => {
    expect(rows).toHaveLength(320);
    for (const row of rows) {
      const record = { ...fieldsOf(row.instruction), feedback: row.gpt4_feedback[0]!, score: row.gpt4_score[0]!, judge: judge("prometheus-absolute") };
      const got = item(sftItem("prometheus-sft", example(record)));
      expect(got.prompt).toEqual([
        { role: "system", content: ABS_SYSTEM_PROMPT },
        { role: "user", content: row.instruction },
      ]);
      expect(got.completion).toBe(`${row.gpt4_feedback[0]!.trim()} [RESULT] ${row.gpt4_score[0]}`);
    }
  });

  it("means over samples are skipped as non-integer, or rounded half up with --round", () => {
    const row = rows.find((r) => r.gpt4_score.reduce((a, b) => a + b, 0) % 3 !== 0)!;
    const mean = row.gpt4_score.reduce((a, b) => a + b, 0) / 3;
    const record = { ...fieldsOf(row.instruction), feedback: row.gpt4_feedback[0]!, score: mean };
    expect(sftItem("prometheus-sft", example(record))).toMatchObject({ skip: "non-integer-score" });
    expect(item(sftItem("prometheus-sft", example(record), { round: true })).completion).toMatch(new RegExp(`\\[RESULT\\] ${Math.round(mean)}$`));
    const half = { ...record, score: 3.5 };
    expect(item(sftItem("prometheus-sft", example(half), { round: true })).completion).toMatch(/ \[RESULT\] 4$/);
    expect(sftItem("prometheus-sft", example({ ...record, score: 7 }))).toMatchObject({ skip: "score-out-of-scale" });
  });

  it("with --samples the target's critique is a sample that argues for the target verdict, or the row is skipped", () => {
    const rubric = { criteria: "Helpful?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const sampled = (scores: number[]) => ({
      instruction: "q", response: "r", ...Object.fromEntries(Object.entries(rubric).map(([k, v]) => [k, v])),
      feedback: `argues for ${scores[0]} (sample 1)`,
      score: scores.reduce((a, b) => a + b, 0) / scores.length,
      judge: { ...judge("prometheus-absolute"), samples: scores.map((s, i) => ({ feedback: `argues for ${s} (sample ${i + 1})`, score: s, raw: "" })) },
    });
    // Samples 5, 1, 5: the mean 3.67 rounds to 4, and no sample argues for 4.
    const split = sftItem("prometheus-sft", example(sampled([5, 1, 5])), { round: true });
    expect(split).toMatchObject({ skip: "no-sample-agrees", detail: expect.stringMatching(/5, 1, 5/) });
    // Samples 3, 4, 5: the mean is 4, argued by the second sample, not the first.
    expect(item(sftItem("prometheus-sft", example(sampled([3, 4, 5])))).completion).toBe("argues for 4 (sample 2) [RESULT] 4");
    // Samples 2, 5, 5 with --round: 4 again has no sample.
    expect(sftItem("prometheus-sft", example(sampled([2, 5, 5])), { round: true })).toMatchObject({ skip: "no-sample-agrees" });
    // Pairwise by majority: B wins 2 to 1, the critique is the first that argues for B.
    const duel = {
      instruction: "Say hi.", response_a: "Hi!", response_b: "Hello!", criteria: "Is it polite?", feedback: "A is better.", winner: "B",
      judge: { ...judge("prometheus-pairwise"), samples: [{ feedback: "A is better.", winner: "A" }, { feedback: "B is warmer.", winner: "B" }, { feedback: "B again.", winner: "B" }] },
    };
    expect(item(sftItem("prometheus-sft", example(duel))).completion).toBe("B is warmer. [RESULT] B");
  });

  it("pairwise judgments use the relative prompt and `[RESULT] A|B`; ties are skipped", () => {
    const record = { instruction: "Say hi.", response_a: "Hi!", response_b: "Go away.", criteria: "Is it polite?", feedback: "A is polite, B is rude.", winner: "A", judge: judge("prometheus-pairwise") };
    const got = item(sftItem("prometheus-sft", example(record)));
    const user = PROMETHEUS_RELATIVE_PROMPT_WO_REF.split("{instruction}").join("Say hi.").split("{response_A}").join("Hi!").split("{response_B}").join("Go away.").split("{rubric}").join("[Is it polite?]");
    expect(got.prompt).toEqual([{ role: "system", content: REL_SYSTEM_PROMPT }, { role: "user", content: user }]);
    expect(got.completion).toBe("A is polite, B is rude. [RESULT] A");
    expect(sftItem("prometheus-sft", example({ ...record, winner: "tie" }))).toMatchObject({ skip: "tie" });
    expect(sftItem("criticon-sft", example(record))).toMatchObject({ skip: "mode-mismatch" });
  });

  it("a record without rubric fields needs --rubric; --system-in-user folds the system prompt into the user turn", () => {
    const record = { instruction: "q", response: "r", feedback: "fine", score: 3 };
    expect(sftItem("prometheus-sft", example(record))).toMatchObject({ skip: "missing-field", detail: expect.stringMatching(/rubric/) });
    const rubric = { criteria: "Helpful?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const got = item(sftItem("prometheus-sft", example(record), { rubric, systemInUser: true }));
    expect(got.prompt).toHaveLength(1);
    expect(got.prompt[0]!.role).toBe("user");
    expect(got.prompt[0]!.content.startsWith(`${ABS_SYSTEM_PROMPT}\n\n###Task Description:`)).toBe(true);
    expect(got.prompt[0]!.content).toContain("[Helpful?]\nScore 1: a\n");
  });
});

describe("critique targets", () => {
  it.each<[OutputFormat, number | "A" | "B", { min: number; max: number } | undefined]>([
    ["result", 4, { min: 1, max: 5 }],
    ["score", 10, { min: 1, max: 10 }],
    ["pairwise", "B", undefined],
    ["autoj", 7, { min: 1, max: 10 }],
  ])("%s: the target parses back to the same verdict with critic's own parser", (output, verdict, scale) => {
    const feedback = "Clear and correct, but it could cite a source. [RESULT] inside text is fine.";
    const parsed = getParser(output, scale)(critiqueTarget(output, feedback, verdict));
    expect(parsed).toMatchObject(typeof verdict === "number" ? { ok: true, score: verdict } : { ok: true, winner: verdict });
  });

  it("generic SFT formats use the judgment's own template, or --template; an unknown template is skipped", () => {
    const record = { instruction: "q", response: "r", feedback: "fine", score: 8, judge: judge("criticon") };
    expect(item(sftItem("sft-messages", example(record))).completion).toBe("fine [SCORE] 8");
    expect(sftItem("sft-messages", example({ ...record, judge: judge("my-template") }))).toMatchObject({ skip: "unknown-template" });
    const forced = item(sftItem("sft-messages", example({ ...record, judge: judge("my-template") }), { template: getTemplate("criticon") }));
    expect(forced.template).toBe("criticon");
    expect(critiqueItem(getTemplate("criticon"), example({ ...record, feedback: "  " }))).toMatchObject({ skip: "empty-text" });
  });
});

describe("alpaca", () => {
  it("renders the Alpaca template of seed 001 (one-line form), and the no-input form for rows without input", () => {
    expect(alpacaText("Write {x}.", "about {input}", "Done.")).toBe(
      "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\nWrite {x}.\n\n### Input:\nabout {input}\n\n### Response:\nDone.",
    );
    expect(alpacaText("Say hi.", "", "Hi!")).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nSay hi.\n\n### Response:\nHi!",
    );
    // Seed 001 wraps the first line after "context. "; joined, it is the template above.
    const seed = fs.readFileSync(path.resolve(dataDir, "../../seeds/001_1abf9af74075d2b6.txt"), "utf8");
    expect(seed).toContain("Below is an instruction that describes a task, paired with an input that provides further context. \nWrite a response that appropriately completes the request.");
  });

  it("critique rows put the system prompt in `instruction` and the judge prompt in `input`", () => {
    const record = { instruction: "q", response: "r", feedback: "fine", score: 8, judge: judge("criticon") };
    const built = buildRows("alpaca", example(record));
    if ("skip" in built) throw new Error("skipped");
    expect(built.rows[0]).toMatchObject({ instruction: CRITICON_SYSTEM_PROMPT, output: "fine [SCORE] 8" });
    expect(String(built.rows[0]!.input).startsWith("### Task description:")).toBe(true);
  });
});

describe("prometheus-sft from judgments made with --rubric", () => {
  it("renders the rubric the judgment recorded when export is given none", () => {
    const rubric = {
      criteria: "Is it right?", score1_description: "no", score2_description: "barely", score3_description: "partly",
      score4_description: "mostly", score5_description: "fully",
    };
    const record = { instruction: "2+2?", response: "4", feedback: "Right.", score: 5, judge: { ...judge("prometheus-absolute"), rubric } };
    const got = item(sftItem("prometheus-sft", example(record)));
    const user = got.prompt.at(-1)!.content;
    expect(user).toContain("###Score Rubrics:\n[Is it right?]\nScore 1: no\nScore 2: barely\nScore 3: partly\nScore 4: mostly\nScore 5: fully\n\n###Feedback: ");
    expect(got.completion).toBe("Right. [RESULT] 5");
    const { rubric: _dropped, ...withoutRubric } = record.judge;
    expect(sftItem("prometheus-sft", example({ ...record, judge: withoutRubric }))).toMatchObject({ skip: "missing-field" });
  });
});
