/**
 * What verdict probabilities cost on the embedded backend, and what `--swap auto` saves: the same
 * records judged with distributions on and off (judgments/s, as a ratio in one run), and the same
 * pairs judged with --swap and --swap auto (calls made, as a share saved). One backend is loaded
 * once and shared, so model loading is not in the figures. Default model: the generated tiny random
 * llama (its verdicts are random and its distributions near-flat, so --swap auto saves little there;
 * pass a real judge with --model to measure what it saves in practice).
 *
 *   npm run bench:build && node build/bench/embedded-distribution.js [records] [--model x.gguf] [--threshold 0.9] [--rounds 3]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbeddedBackend } from "../src/backends/embedded.js";
import { judge } from "../src/judge/judge.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../src/gguf/tiny-model.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const modelFlag = flag("--model");
const threshold = Number(flag("--threshold") ?? 0.9);
const rounds = Number(flag("--rounds") ?? 3);
const records = Number(args[0] ?? 48);
const modelPath = modelFlag ?? (await ensureTinyModel());
const backend = await createEmbeddedBackend({ modelPath, parallel: 4, gpu: false, ...(modelFlag ? {} : { threads: TINY_MODEL_THREADS }) });

const dir = mkdtempSync(join(tmpdir(), "critic-distribution-bench-"));
const absolute = join(dir, "absolute.jsonl");
const pairs = join(dir, "pairs.jsonl");
writeFileSync(absolute, Array.from({ length: records }, (_, i) => JSON.stringify({ instruction: `Question ${i}: why is the sky blue?`, response: `Rayleigh scattering, answer ${i}.` })).join("\n"));
writeFileSync(pairs, Array.from({ length: records }, (_, i) => JSON.stringify({ instruction: `Question ${i}: name a prime.`, response_a: `${2 * i + 1}`, response_b: `${2 * i + 2}`, criteria: "Is the answer a prime number?" })).join("\n"));

let run = 0;
async function timed(input: string, extra: Record<string, unknown>) {
  const started = performance.now();
  // A fresh store per run: every call is computed, none read from the cache.
  const summary = await judge({ input, output: join(dir, `out-${run}.jsonl`), model: backend, rubric: "helpfulness", params: { maxTokens: 96 }, store: join(dir, `store-${run++}.sqlite`), progress: false, ...extra });
  return { seconds: (performance.now() - started) / 1000, summary };
}

console.log(`model ${modelPath}, ${records} records, parallel 4, ${rounds} rounds (alternating, best of each)`);
let withBest = Infinity;
let withoutBest = Infinity;
for (let r = 0; r < rounds; r++) {
  withoutBest = Math.min(withoutBest, (await timed(absolute, { distributions: false })).seconds);
  withBest = Math.min(withBest, (await timed(absolute, {})).seconds);
}
console.log(`distributions off: ${(records / withoutBest).toFixed(2)} judgments/s`);
console.log(`distributions on:  ${(records / withBest).toFixed(2)} judgments/s`);
console.log(`ratio on/off: ${(withoutBest / withBest).toFixed(3)} (1 = free)`);

const swap = await timed(pairs, { mode: "pairwise", swap: true });
const auto = await timed(pairs, { mode: "pairwise", swap: "auto", swapThreshold: threshold });
console.log(`--swap: ${swap.summary.calls} calls; --swap auto (threshold ${threshold}): ${auto.summary.calls} calls, ${auto.summary.swapSkipped} of ${records} pairs graded once`);
console.log(`share of calls saved by --swap auto: ${((1 - auto.summary.calls / swap.summary.calls) * 100).toFixed(1)}%`);
await backend.dispose();
