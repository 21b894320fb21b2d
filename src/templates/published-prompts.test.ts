/**
 * Byte-exact check against prompts that prometheus-eval itself filled in for its benchmarks:
 * each prompt is split at its section headers into instruction, response, reference and rubric,
 * the rubric into criteria and score descriptions, and rendering those again must give back the
 * very same bytes.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { getTemplate } from "./registry.js";
import { renderPrompt } from "./render.js";
import type { Rubric } from "./types.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.resolve(repoRoot, "../shared/data/prometheus_eval");

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(dataDir, file), "utf8")) as T;
}

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end, from + start.length);
  if (from < 0 || to < 0) throw new Error(`section ${start.trim()} not found`);
  return text.slice(from + start.length, to);
}

function splitPrompt(prompt: string): { record: Record<string, string>; rubric: Rubric } {
  const hasReference = prompt.includes("\n\n###Reference Answer (Score 5):\n");
  const record: Record<string, string> = {
    instruction: between(prompt, "###The instruction to evaluate:\n", "\n\n###Response to evaluate:\n"),
    response: between(prompt, "\n\n###Response to evaluate:\n", hasReference ? "\n\n###Reference Answer (Score 5):\n" : "\n\n###Score Rubrics:\n"),
  };
  if (hasReference) record.reference_answer = between(prompt, "\n\n###Reference Answer (Score 5):\n", "\n\n###Score Rubrics:\n");
  const rubricText = between(prompt, "\n\n###Score Rubrics:\n", "\n\n###Feedback: ");
  const parts = /^\[(.*)\]\nScore 1: (.*)\nScore 2: (.*)\nScore 3: (.*)\nScore 4: (.*)\nScore 5: (.*)$/s.exec(rubricText);
  if (!parts) throw new Error(`rubric not in SCORE_RUBRIC_TEMPLATE layout: ${rubricText.slice(0, 80)}`);
  const [, criteria, s1, s2, s3, s4, s5] = parts as unknown as string[];
  return {
    record,
    rubric: { criteria: criteria!, score1_description: s1!, score2_description: s2!, score3_description: s3!, score4_description: s4!, score5_description: s5! },
  };
}

function rerender(prompt: string): string {
  const { record, rubric } = splitPrompt(prompt);
  const messages = renderPrompt(getTemplate("prometheus-absolute"), record, rubric);
  return messages[messages.length - 1]!.content;
}

describe("prometheus-absolute reproduces prometheus-eval's benchmark prompts byte for byte", () => {
  it("hhh_alignment_eval.json (no reference answer): all 442 prompts", () => {
    const rows = readJson<{ chosen_instruction: string; rejected_instruction: string }[]>("hhh_alignment_eval.json");
    expect(rows).toHaveLength(221);
    let same = 0;
    for (const row of rows) {
      for (const prompt of [row.chosen_instruction, row.rejected_instruction]) {
        expect(rerender(prompt)).toBe(prompt);
        same++;
      }
    }
    expect(same).toBe(442);
  });

  it("the first hhh prompt, from the separately parsed pair file with its rubric as text", () => {
    const rows = readJson<{ chosen_instruction: string }[]>("hhh_alignment_eval.json");
    const firstLine = fs.readFileSync(path.join(dataDir, "hhh_alignment_pairs_parsed.jsonl"), "utf8").split("\n")[0]!;
    const pair = JSON.parse(firstLine) as { id: number; instruction: string; chosen: string; rubric: string };
    const messages = renderPrompt(getTemplate("prometheus-absolute"), { instruction: pair.instruction, response: pair.chosen, rubric: pair.rubric });
    expect(messages[1]!.content).toBe(rows[pair.id]!.chosen_instruction);
  });

  it.each(["mt_bench_eval.json", "vicuna_eval.json"])("%s (with reference answer): all 320 prompts", (file) => {
    const rows = readJson<{ instruction: string }[]>(file);
    expect(rows).toHaveLength(320);
    for (const row of rows) expect(rerender(row.instruction)).toBe(row.instruction);
  });
});
