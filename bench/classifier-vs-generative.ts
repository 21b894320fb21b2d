/**
 * A classifier judge package against the generative judge on the same backbone, records and threads,
 * in one run: judgments/s of `critic judge --model ./package/` (one forward pass per record, the head
 * in TypeScript) and of the same GGUF as a generative Prometheus judge writing a critique of
 * --max-tokens tokens (default 100). Under the output grammar this random model ends its "feedback"
 * after ~30 tokens, so the generative judge runs without the grammar here: it writes exactly
 * --max-tokens tokens of random text (recorded as unparsed: its timing is a 100-token critique's, its
 * verdicts mean nothing either way). The backbone is the benches' 0.5B-shape Q8_0 random llama
 * (bench-model.ts); the head is 5 random rows. Model loading is outside the timings; the classifier is
 * timed twice, before and after the generative judge, to show drift on a busy machine.
 *
 * --gpu runs both on the GPU (llama.cpp's choice of threads unless --threads); --shape 7b is a random
 * Llama-2-7B-shape Q4_0 backbone (written once, ~5 minutes, 3.4 GiB; bench-model.ts). --parallel n
 * gives both judges n sequences (default: 1 on the CPU; on a GPU each its own default); a list
 * (--parallel 1,2,4) with --head-only times the classifier at each and skips the generative judge.
 *
 *   npm run bench:build && node build/bench/classifier-vs-generative.js [records] [--threads n] [--max-tokens n] [--shape 0.5b|7b|tiny] [--gpu] [--parallel n[,n...]] [--head-only]
 *   GPU, one command: node build/bench/classifier-vs-generative.js 64 --gpu --shape 7b && node build/bench/classifier-vs-generative.js 64 --gpu --shape 7b --head-only --parallel 1,4,8
 */
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEmbeddedBackend, defaultThreads } from "../src/backends/embedded.js";
import { judge } from "../src/judge/judge.js";
import { emptyStats, judgeStream } from "../src/judge/engine.js";
import { RunStore } from "../src/store/run-store.js";
import { writeJudgePackage } from "../src/heads/package.js";
import { openHeadRun } from "../src/heads/run.js";
import { benchModel } from "./bench-model.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const maxTokens = Number(flag("--max-tokens") ?? 100);
const threadsFlag = flag("--threads");
const shape = flag("--shape") ?? "0.5b";
const parallelFlag = flag("--parallel");
const boolean = (name: string): boolean => {
  const at = args.indexOf(name);
  return at >= 0 && args.splice(at, 1).length === 1;
};
const gpu = boolean("--gpu");
const headOnly = boolean("--head-only");
const records = Number(args[0] ?? 8);
// On the CPU one thread count for both, critic's default (the idle cores); on a GPU llama.cpp's own.
const threads = threadsFlag !== undefined ? Number(threadsFlag) : gpu ? undefined : defaultThreads().value;
const parallels = parallelFlag !== undefined ? parallelFlag.split(",").map(Number) : [gpu ? undefined : 1];
if (parallels.some((n) => n !== undefined && !(Number.isInteger(n) && n >= 1))) throw new Error(`--parallel: positive whole numbers, got ${parallelFlag}`);
if (parallels.length > 1 && !headOnly) throw new Error("--parallel with several values needs --head-only");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const { path: modelPath, dims } = await benchModel(shape);
const dir = mkdtempSync(join(tmpdir(), "critic-classifier-bench-"));

// The same records for both: the bundled Prometheus examples, repeated with a suffix so none repeats.
const examples = readFileSync(fileURLToPath(new URL("../../examples/absolute.jsonl", import.meta.url)), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
const rows = Array.from({ length: records }, (_, i) => ({ ...examples[i % examples.length]!, id: `r${i}`, response: `${String(examples[i % examples.length]!.response)} (${i})` }));
const input = join(dir, "input.jsonl");
writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

// The package: the bench model as backbone (linked, not copied), 5 seeded random rows as the head.
const pkg = join(dir, "package");
const hidden = dims.embeddingLength;
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) / Math.sqrt(hidden);
await import("node:fs/promises").then((fs) => fs.mkdir(pkg, { recursive: true }));
// Under the model's own file name: without a chat template in the GGUF, node-llama-cpp picks the chat
// wrapper from the file name, and both judges must render the same prompt tokens.
symlinkSync(modelPath, join(pkg, basename(modelPath)));
await writeJudgePackage(pkg, {
  manifest: { kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 }, template: "prometheus-absolute", created_by: "bench/classifier-vs-generative", backbone: basename(modelPath) },
  weight: Float32Array.from({ length: 5 * hidden }, random),
  rows: 5,
  hidden,
});

const threadText = threads === undefined ? "llama.cpp's threads" : `threads ${threads} for both (${threadsFlag !== undefined ? "--threads" : "critic's default: the idle cores"})`;
console.log(`backbone ${modelPath} (${shape}), ${gpu ? "GPU" : "CPU"}, ${records} records (prometheus-absolute, helpfulness rubric), ${threadText}, generative max ${maxTokens} tokens; load ${load()}`);

const common = { ...(threads !== undefined ? { threads } : {}), contextSize: 2048, gpu: gpu ? ("auto" as const) : false as const };
let storeCount = 0;
async function classifier(label: string, parallel: number | undefined): Promise<{ jps: number; prompt: number }> {
  const run = await openHeadRun(pkg, { rubric: "helpfulness", ...common, ...(parallel !== undefined ? { parallel } : {}) });
  console.log(run.head.settings);
  // A fresh store each time: a judgment cached by an earlier run would not be timed.
  const store = RunStore.open(join(dir, `head-${++storeCount}.sqlite`));
  const grader = run.grader;
  const stats = emptyStats();
  const started = performance.now();
  let n = 0;
  for await (const j of judgeStream(rows.map((record, index) => ({ index, record })), { backend: run.identity, grader, head: run.head, store, stats })) {
    if (j.error) throw new Error(j.error);
    n++;
  }
  const seconds = (performance.now() - started) / 1000;
  store.close();
  await run.head.dispose();
  console.log(`${label.padEnd(16)} ${(n / seconds).toFixed(3)} judgments/s, ${stats.promptTokens} prompt tokens, ${seconds.toFixed(1)} s; load ${load()}`);
  return { jps: n / seconds, prompt: stats.promptTokens };
}

if (headOnly) {
  const figures: Array<[number | undefined, number]> = [];
  for (const parallel of parallels) figures.push([parallel, (await classifier(`classifier p${parallel ?? "-"}`, parallel)).jps]);
  // And again in reverse order, to show drift on a busy machine.
  for (const parallel of [...parallels].reverse()) figures.push([parallel, (await classifier(`classifier p${parallel ?? "-"}`, parallel)).jps]);
  for (const parallel of parallels) {
    const runs = figures.filter(([p]) => p === parallel).map(([, j]) => j);
    console.log(`parallel ${parallel ?? "default"}: ${(runs.reduce((a, b) => a + b, 0) / runs.length).toFixed(3)} judgments/s (runs ${runs.map((j) => j.toFixed(3)).join(", ")})`);
  }
  process.exit(0);
}

const parallel = parallels[0];
const first = await classifier("classifier (1)", parallel);
const backend = await createEmbeddedBackend({ modelPath, ...(parallel !== undefined ? { parallel } : {}), ...common });
console.log(backend.settings);
const started = performance.now();
const unconstrained = { ...backend, kind: backend.kind, model: backend.model, concurrency: backend.concurrency, generate: (request: Parameters<typeof backend.generate>[0]) => backend.generate({ ...request, constraint: undefined }), dispose: () => backend.dispose() };
const summary = await judge({ input, output: join(dir, "generative.jsonl"), model: unconstrained, template: "prometheus", rubric: "helpfulness", params: { maxTokens }, store: join(dir, "gen.sqlite"), progress: false, distributions: false, maxRetries: 0 });
const seconds = (performance.now() - started) / 1000;
await backend.dispose();
const generative = (summary.judged + summary.failed) / seconds;
console.log(`${"generative".padEnd(16)} ${generative.toFixed(3)} judgments/s, ${summary.promptTokens} prompt tokens, ${summary.completionTokens} completion tokens (${(summary.completionTokens / records).toFixed(0)} per critique), ${seconds.toFixed(1)} s`);
const second = await classifier("classifier (2)", parallel);
const mean = (first.jps + second.jps) / 2;
console.log(`ratio classifier/generative: ${(mean / generative).toFixed(1)}x judgments/s (classifier runs ${first.jps.toFixed(3)} and ${second.jps.toFixed(3)})`);
