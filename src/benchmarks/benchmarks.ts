import { existsSync } from "node:fs";
import path from "node:path";
import { readRecords } from "../records/read.js";
import { parsePrometheusPrompt } from "./prometheus-prompt.js";

/** One record of a benchmark in critic's field names, or the reason a source record was left out. */
export type BenchItem =
  | { ok: true; record: Record<string, unknown> }
  | { ok: false; file: string; line: number; reason: string };

/** A human- (or GPT-4-) labelled judge benchmark read from a data folder. */
export interface Benchmark {
  name: string;
  title: string;
  kind: "score" | "pairwise";
  /** Files relative to the data folder. */
  files: string[];
  /** Template and rubric critic judges it with (the rubric only where records carry none). */
  template: string;
  rubric?: string;
  /** Gold field in the prepared records: a list of scores, or "A" | "B" | "tie". */
  gold: string;
  /** Category field the report breaks metrics down by. */
  by?: string;
  /** Where the labels come from, as the data's SOURCES.md says. */
  labels: string;
  items(dataDir: string): AsyncGenerator<BenchItem>;
}

async function* prometheusAbsolute(dataDir: string, file: string): AsyncGenerator<BenchItem> {
  const full = path.join(dataDir, file);
  for await (const { line, record } of readRecords(full)) {
    const fields = typeof record.instruction === "string" ? parsePrometheusPrompt(record.instruction) : { error: 'field "instruction" is not a string' };
    const gold = record.gpt4_score;
    if ("error" in fields) yield { ok: false, file: full, line, reason: fields.error };
    else if (!Array.isArray(gold) || gold.length === 0 || !gold.every((s) => typeof s === "number")) {
      yield { ok: false, file: full, line, reason: 'field "gpt4_score" is not a list of numbers' };
    } else {
      yield {
        ok: true,
        record: { id: `${record.response_source}:${record.idx}`, category: record.category, response_source: record.response_source, ...fields, gold_score: gold },
      };
    }
  }
}

async function* hhhAlignment(dataDir: string): AsyncGenerator<BenchItem> {
  const full = path.join(dataDir, "prometheus_eval/hhh_alignment_eval.json");
  let index = 0;
  for await (const { line, record } of readRecords(full)) {
    const chosen = typeof record.chosen_instruction === "string" ? parsePrometheusPrompt(record.chosen_instruction) : { error: 'field "chosen_instruction" is not a string' };
    const rejected = typeof record.rejected_instruction === "string" ? parsePrometheusPrompt(record.rejected_instruction) : { error: 'field "rejected_instruction" is not a string' };
    if ("error" in chosen) yield { ok: false, file: full, line, reason: `chosen_instruction: ${chosen.error}` };
    else if ("error" in rejected) yield { ok: false, file: full, line, reason: `rejected_instruction: ${rejected.error}` };
    else if (chosen.instruction !== rejected.instruction || chosen.rubric !== rejected.rubric) {
      yield { ok: false, file: full, line, reason: "chosen and rejected prompts differ in instruction or rubric" };
    } else {
      // The human-preferred response alternates between positions so a judge's position bias
      // cannot pass for accuracy.
      const chosenFirst = index % 2 === 0;
      yield {
        ok: true,
        record: {
          id: index,
          source: record.source,
          instruction: chosen.instruction,
          response_a: chosenFirst ? chosen.response : rejected.response,
          response_b: chosenFirst ? rejected.response : chosen.response,
          rubric: chosen.rubric,
          gold: chosenFirst ? "A" : "B",
        },
      };
    }
    index++;
  }
}

/** LLMBar's layout: input, output_1, output_2, label 1|2. */
async function* llmbarFiles(dataDir: string, files: Record<string, string>): AsyncGenerator<BenchItem> {
  for (const [subset, file] of Object.entries(files)) {
    const full = path.join(dataDir, file);
    let index = 0;
    for await (const { line, record } of readRecords(full)) {
      const label = record.label;
      if (typeof record.input !== "string" || typeof record.output_1 !== "string" || typeof record.output_2 !== "string") {
        yield { ok: false, file: full, line, reason: "fields input, output_1 and output_2 must be strings" };
      } else if (label !== 1 && label !== 2) {
        yield { ok: false, file: full, line, reason: `field "label" must be 1 or 2, got ${JSON.stringify(label)}` };
      } else {
        yield {
          ok: true,
          record: { id: `${subset}:${index}`, subset, instruction: record.input, response_a: record.output_1, response_b: record.output_2, gold: label === 1 ? "A" : "B" },
        };
      }
      index++;
    }
  }
}

async function* autojPairwise(dataDir: string): AsyncGenerator<BenchItem> {
  const full = path.join(dataDir, "autoj/testdata_pairwise.jsonl");
  const verdicts: Record<number, string> = { 0: "A", 1: "B", 2: "tie" };
  let index = 0;
  for await (const { line, record } of readRecords(full)) {
    const gold = verdicts[record.label as number];
    const a = record["response 1"];
    const b = record["response 2"];
    if (typeof record.prompt !== "string" || typeof a !== "string" || typeof b !== "string") {
      yield { ok: false, file: full, line, reason: 'fields prompt, "response 1" and "response 2" must be strings' };
    } else if (gold === undefined) {
      yield { ok: false, file: full, line, reason: `field "label" must be 0, 1 or 2, got ${JSON.stringify(record.label)}` };
    } else {
      yield { ok: true, record: { id: index, scenario: record.scenario, instruction: record.prompt, response_a: a, response_b: b, gold } };
    }
    index++;
  }
}

const LLMBAR_ADVERSARIAL = {
  neighbor: "llmbar/llmbar_adversarial_neighbor.json",
  gptinst: "llmbar/llmbar_adversarial_gptinst.json",
  gptout: "llmbar/llmbar_adversarial_gptout.json",
  manual: "llmbar/llmbar_adversarial_manual.json",
};

export const BENCHMARKS: Benchmark[] = [
  {
    name: "hhh-alignment",
    title: "HHH alignment (BIG-bench), as prometheus-eval ships it",
    kind: "pairwise",
    files: ["prometheus_eval/hhh_alignment_eval.json"],
    template: "prometheus-pairwise",
    gold: "gold",
    by: "source",
    labels: "human-written preferred response (Askell et al. 2021); no ties; preferred response placed at A and B alternately",
    items: hhhAlignment,
  },
  {
    name: "mt-bench",
    title: "MT-Bench responses with Prometheus rubrics and GPT-4 scores",
    kind: "score",
    files: ["prometheus_eval/mt_bench_eval.json"],
    template: "prometheus-absolute",
    gold: "gold_score",
    by: "category",
    labels: "three GPT-4 1-5 scores per response (averaged)",
    items: (dir) => prometheusAbsolute(dir, "prometheus_eval/mt_bench_eval.json"),
  },
  {
    name: "vicuna-bench",
    title: "Vicuna bench responses with Prometheus rubrics and GPT-4 scores",
    kind: "score",
    files: ["prometheus_eval/vicuna_eval.json"],
    template: "prometheus-absolute",
    gold: "gold_score",
    by: "category",
    labels: "three GPT-4 1-5 scores per response (averaged)",
    items: (dir) => prometheusAbsolute(dir, "prometheus_eval/vicuna_eval.json"),
  },
  {
    name: "llmbar-natural",
    title: "LLMBar natural set",
    kind: "pairwise",
    files: ["llmbar/llmbar_natural.json"],
    template: "prometheus-pairwise",
    rubric: "instruction_following",
    gold: "gold",
    labels: "expert-curated better output (label 1|2); no ties",
    items: (dir) => llmbarFiles(dir, { natural: "llmbar/llmbar_natural.json" }),
  },
  {
    name: "llmbar-adversarial",
    title: "LLMBar adversarial sets (neighbor, GPTInst, GPTOut, manual)",
    kind: "pairwise",
    files: Object.values(LLMBAR_ADVERSARIAL),
    template: "prometheus-pairwise",
    rubric: "instruction_following",
    gold: "gold",
    by: "subset",
    labels: "expert-curated better output (label 1|2); no ties",
    items: (dir) => llmbarFiles(dir, LLMBAR_ADVERSARIAL),
  },
  {
    name: "mt-bench-human",
    title: "MT-Bench human judgments (LLMBar's processed subset)",
    kind: "pairwise",
    files: ["llmbar/processed_mtbench_human.json"],
    template: "prometheus-pairwise",
    rubric: "helpfulness",
    gold: "gold",
    labels: "majority vote of MT-Bench human expert judgments; ties removed; 200 sampled",
    items: (dir) => llmbarFiles(dir, { "mt-bench-human": "llmbar/processed_mtbench_human.json" }),
  },
  {
    name: "autoj-pairwise",
    title: "Auto-J pairwise test set (58 scenarios)",
    kind: "pairwise",
    files: ["autoj/testdata_pairwise.jsonl"],
    template: "prometheus-pairwise",
    rubric: "helpfulness",
    gold: "gold",
    by: "scenario",
    labels: "human label: response 1 better, response 2 better, or tie",
    items: autojPairwise,
  },
];

export function getBenchmark(name: string): Benchmark {
  const found = BENCHMARKS.find((b) => b.name === name);
  if (!found) throw new Error(`unknown benchmark "${name}"; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  return found;
}

/** The benchmark's files that are missing from a data folder. */
export function missingFiles(benchmark: Benchmark, dataDir: string): string[] {
  return benchmark.files.filter((file) => !existsSync(path.join(dataDir, file)));
}
