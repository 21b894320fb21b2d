/**
 * Embedded backend throughput with N parallel sequences of one context against 1, on the same
 * model and the same records: judge() over a generated absolute-grading file, greedy, with the
 * output grammar. Default model: the generated tiny random llama (its scores are random; only
 * the speed means something); pass a GGUF path to measure a real judge.
 *
 *   npm run bench:build && node build/bench/embedded-parallel.js [records] [parallel...] [--model x.gguf] [--threads n] [--max-tokens n]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { judge } from "../src/judge/judge.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../src/gguf/tiny-model.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const modelFlag = flag("--model");
const model = modelFlag ?? (await ensureTinyModel());
const threads = Number(flag("--threads") ?? (modelFlag ? 0 : TINY_MODEL_THREADS)) || undefined;
const maxTokens = Number(flag("--max-tokens") ?? 128);
const records = Number(args[0] ?? 64);
const parallels = args.length > 1 ? args.slice(1).map(Number) : [1, 4, 8];

const dir = mkdtempSync(join(tmpdir(), "critic-embedded-bench-"));
const input = join(dir, "input.jsonl");
writeFileSync(
  input,
  Array.from({ length: records }, (_, i) =>
    JSON.stringify({ id: i, instruction: `Question ${i}: how do plants make food?`, response: `Plants use light, water and air. Answer ${i}.` }),
  ).join("\n"),
);

console.log(`model ${model}, ${records} records, max ${maxTokens} tokens each, threads ${threads ?? "default"}`);
for (const parallel of parallels) {
  const started = performance.now();
  // A fresh store per run so every judgment is computed, never read from the cache.
  const summary = await judge({
    input, output: join(dir, `out-${parallel}.jsonl`), model, parallel, threads, rubric: "helpfulness",
    params: { maxTokens }, store: join(dir, `store-${parallel}.sqlite`), progress: false,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `parallel ${String(parallel).padStart(2)}: ${summary.judged} judgments in ${seconds.toFixed(1)} s = ${(summary.judged / seconds).toFixed(2)} judgments/s, ` +
      `${(summary.completionTokens / seconds).toFixed(0)} completion tokens/s (model load included)`,
  );
}
