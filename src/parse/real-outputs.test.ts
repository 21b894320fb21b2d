/**
 * Parsers on real judge outputs from published benchmarks (read at run time from ../shared/data).
 * prometheus-eval's mt_bench_eval.json and vicuna_eval.json store each GPT-4 feedback with its score
 * in a separate field: the verdict was cut from the text. So the raw feedbacks must (almost all)
 * fail to parse, never yielding a score from prose such as "the score 5 criteria", and each one
 * with its recorded verdict appended, as GPT-4 wrote it, must give back that score.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAbsolute } from "./absolute.js";
import { parseAutoJ } from "./autoj.js";
import { parseAutoJRating, parsePrometheusAbsolute } from "./authors.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.resolve(repoRoot, "../shared/data");

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(path.join(dataDir, file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

interface PrometheusEvalRow {
  gpt4_feedback: string[];
  gpt4_score: number[];
}

const FIVE = { min: 1, max: 5 };

describe.each(["mt_bench_eval.json", "vicuna_eval.json"])("prometheus_eval/%s GPT-4 feedbacks", (file) => {
  const rows = JSON.parse(fs.readFileSync(path.join(dataDir, "prometheus_eval", file), "utf8")) as PrometheusEvalRow[];
  const samples = rows.flatMap((row) => row.gpt4_feedback.map((feedback, i) => ({ feedback, score: row.gpt4_score[i]! })));

  it("has 960 feedbacks, each with a recorded 1-5 score", () => {
    expect(samples).toHaveLength(960);
    for (const sample of samples) expect(sample.score).toBeGreaterThanOrEqual(1);
  });

  it("never reads a wrong score from a raw feedback: those without a final verdict fail", () => {
    let parsed = 0;
    let agree = 0;
    for (const { feedback, score } of samples) {
      const result = parseAbsolute(feedback, FIVE);
      if (result.ok) {
        parsed++;
        if (result.score === score) agree++;
      } else {
        expect(result.raw).toBe(feedback);
        expect(result.error).toMatch(/no verdict|more text follows/);
      }
    }
    console.log(`${file}: ${parsed}/${samples.length} raw feedbacks still end in a verdict; ${agree}/${parsed} agree with gpt4_score`);
    expect(agree).toBe(parsed);
    // The verdict was cut from nearly all of them; a parser that finds scores in prose would parse far more.
    expect(parsed).toBeLessThan(samples.length * 0.01);
  });

  it("reads back every recorded score once the verdict is appended, with the feedback intact", () => {
    let agree = 0;
    for (const { feedback, score } of samples) {
      const result = parseAbsolute(`${feedback} [RESULT] ${score}`, FIVE);
      if (result.ok && result.score === score && result.feedback === feedback.trim()) agree++;
    }
    expect(agree).toBe(samples.length);
  });

  it("prometheus-eval's own rule (parse_output, the default parse) reads no wrong score from a raw feedback and every appended one", () => {
    let parsed = 0;
    let agree = 0;
    for (const { feedback, score } of samples) {
      const result = parsePrometheusAbsolute(feedback, FIVE);
      if (result.ok) {
        parsed++;
        if (result.score === score) agree++;
      } else expect(result.raw).toBe(feedback);
    }
    const appended = samples.filter(({ feedback, score }) => {
      const result = parsePrometheusAbsolute(`${feedback} [RESULT] ${score}`, FIVE);
      return result.ok && result.score === score && result.feedback === feedback.trim();
    }).length;
    console.log(`${file} (authors' rule): ${parsed}/${samples.length} raw feedbacks end in a verdict; ${agree}/${parsed} agree with gpt4_score; ${appended}/${samples.length} read back with [RESULT] appended`);
    expect(agree).toBe(parsed);
    expect(parsed).toBeLessThan(samples.length * 0.01);
    expect(appended).toBe(samples.length);
  });
});

describe("autoj critiques with ratings", () => {
  it("single_traindata.jsonl: every GPT-4 critique's final rating equals pred_score", () => {
    const rows = readJsonl<{ target_output: string; pred_score: number }>("autoj/single_traindata.jsonl");
    expect(rows).toHaveLength(960);
    const mismatches: string[] = [];
    for (const row of rows) {
      const result = parseAutoJ(row.target_output);
      if (!result.ok) mismatches.push(`unparsed: ${result.error}`);
      else if (result.score !== row.pred_score) mismatches.push(`${result.score} != ${row.pred_score}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("single_traindata.jsonl: Auto-J's own rule (extract_single_rating, the default parse) gives every pred_score too", () => {
    const rows = readJsonl<{ target_output: string; pred_score: number }>("autoj/single_traindata.jsonl");
    const scores = rows.map((row) => parseAutoJRating(row.target_output, { min: 1, max: 10 }));
    expect(scores.map((r) => (r.ok ? r.score : r.error))).toEqual(rows.map((row) => row.pred_score));
  });

  it("testdata_critique.jsonl: Auto-J critiques parse unless the rating is missing", () => {
    const rows = readJsonl<{ critiques: { autoj: string } }>("autoj/testdata_critique.jsonl");
    const texts = rows.map((row) => row.critiques.autoj);
    const results = texts.map((text) => parseAutoJ(text));
    const unparsed = texts.filter((_, i) => !results[i]!.ok);
    console.log(`autoj testdata_critique: ${texts.length - unparsed.length}/${texts.length} parsed`);
    for (const text of unparsed) expect(text).not.toMatch(/Rating/);
    expect(unparsed.length).toBeLessThanOrEqual(texts.length * 0.01);
  });

  it("reference_chatgpt_critique.jsonl: ChatGPT critiques end in Rating: [[n]] or Rating: n", () => {
    const texts = readJsonl<{ output: string }>("autoj/reference_chatgpt_critique.jsonl").map((row) => row.output);
    const unparsed = texts.filter((text) => !parseAutoJ(text).ok);
    console.log(`autoj reference_chatgpt_critique: ${texts.length - unparsed.length}/${texts.length} parsed`);
    for (const text of unparsed) expect(text.trimEnd()).not.toMatch(/Rating:?\s*(\[\[)?\d+(\.\d+)?(\]\])?\.?$/);
  });
});
