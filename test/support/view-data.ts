/**
 * Judgment files for critic view's tests. Real ones come from ../shared/data at run time:
 * prometheus-eval's MT-Bench set holds three GPT-4 judgments (feedback + 1-5 score) of 320
 * responses, which make three real judges of the same records. Large ones are generated.
 */
import { createWriteStream, readFileSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { writeJsonl } from "./jsonl.js";
import { sharedData } from "./cli.js";

export const MT_BENCH_EVAL = path.join(sharedData, "prometheus_eval", "mt_bench_eval.json");

interface MtBenchEvalRow {
  idx: string;
  response_source: string;
  category: string;
  instruction: string;
  gpt4_score: number[];
  gpt4_feedback: string[];
}

/** A part of a Prometheus prompt between its "###Heading:" and the next heading. */
function section(prompt: string, heading: string): string {
  const start = prompt.indexOf(`###${heading}:`);
  if (start < 0) return "";
  const rest = prompt.slice(start + heading.length + 4);
  const end = rest.search(/\n###[A-Z][^\n]*:/);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

/**
 * GPT-4's judgment number `sample` (0-2) of each MT-Bench response, as a critic judgments file;
 * `id` is question-source. Returns the records written.
 */
export function writeMtBenchJudgments(file: string, sample: number, limit = Infinity): Array<Record<string, unknown>> {
  const rows = (JSON.parse(readFileSync(MT_BENCH_EVAL, "utf8")) as MtBenchEvalRow[]).slice(0, limit);
  const records = rows.map((r) => {
    const scores = r.gpt4_score;
    const feedback = r.gpt4_feedback;
    return {
      id: `${r.idx}-${r.response_source}`,
      category: r.category,
      response_source: r.response_source,
      instruction: section(r.instruction, "The instruction to evaluate"),
      response: section(r.instruction, "Response to evaluate"),
      reference_answer: section(r.instruction, "Reference Answer (Score 5)"),
      feedback: feedback[sample],
      score: scores[sample],
      judge: { backend: "dataset", model: `gpt-4 (sample ${sample + 1})`, template: "prometheus-absolute", raw: `Feedback: ${feedback[sample]} [RESULT] ${scores[sample]}`, samples: [], tokens: { prompt: 0, completion: 0 }, latencyMs: 0, cached: false, calls: 0 },
    };
  });
  writeJsonl(file, records);
  return records;
}

/** A simple pseudo-random stream (xorshift), so generated files are the same every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const WORDS = "the a judge response answer model helpful accurate concise detailed wrong missing step example code table reason because however clearly partly".split(" ");

/** `rows` generated absolute judgments (ids r0, r1, …; scores 1-5; every 50th failed), streamed to disk. */
export async function writeGeneratedJudgments(file: string, rows: number, seed = 7): Promise<void> {
  const next = random(seed);
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" ");
  const out = createWriteStream(file);
  for (let i = 0; i < rows; i++) {
    const failed = i % 50 === 49;
    const score = 1 + Math.floor(next() * 5);
    const p = 0.4 + next() * 0.6;
    const record = {
      id: `r${i}`,
      task: ["math", "code", "writing", "reasoning"][i % 4],
      instruction: `Question ${i}: ${words(12)}`,
      response: words(30),
      feedback: failed ? null : words(20),
      ...(failed ? { score: null, error: "could not parse the output" } : { score, score_distribution: { [String(score)]: p, [String(score === 5 ? 4 : score + 1)]: 1 - p } }),
      judge: { backend: "openai", model: "gen", template: "prometheus-absolute", raw: failed ? "no verdict here" : `${words(5)} [RESULT] ${score}`, samples: [], tokens: { prompt: 300, completion: 40 }, latencyMs: 12, cached: false, calls: 1 },
    };
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
