import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Backend } from "../backends/types.js";
import { resolveGrader } from "../judge/grader.js";
import { judge, type JudgeOptions, type JudgeSummary } from "../judge/judge.js";
import { metaEval, writeReport, type MetaEvalResult } from "../metaeval/index.js";
import { createRecordWriter, createRejectsWriter } from "../records/write.js";
import { getBenchmark, missingFiles, type Benchmark } from "./benchmarks.js";

export interface BenchRunOptions extends Omit<JudgeOptions, "input" | "output" | "model" | "rejects" | "map"> {
  /** Benchmark name (see `BENCHMARKS`). */
  benchmark: string;
  /** One judge, or several to compare on the same records. */
  models: (string | Backend)[];
  /** Folder holding the benchmark files (the layout of ../shared/data). */
  dataDir: string;
  /** Run folder: prepared input, one judgments file per model, the report. */
  outDir: string;
  /** Judge only the first n records (a quick look; the full set is the benchmark). */
  limit?: number;
  /** Meta-eval bootstrap resamples and seed. */
  bootstrap?: number;
  bootstrapSeed?: number;
}

export interface BenchRunResult {
  benchmark: Benchmark;
  input: string;
  records: number;
  /** Source records that could not be prepared (file, line, reason written to skipped.jsonl). */
  skipped: number;
  judges: { model: string; output: string; summary: JudgeSummary }[];
  status: "finished" | "interrupted";
  /** Absent when the run was interrupted before every judge finished. */
  metaEval?: MetaEvalResult;
  reportDir?: string;
}

/** Judges a known benchmark with one or more models and measures them against its labels. */
export async function runBenchmark(options: BenchRunOptions): Promise<BenchRunResult> {
  const benchmark = getBenchmark(options.benchmark);
  const missing = missingFiles(benchmark, options.dataDir);
  if (missing.length > 0) {
    throw new Error(`benchmark "${benchmark.name}" needs ${missing.map((f) => path.join(options.dataDir, f)).join(", ")} (set the data folder with --data)`);
  }
  if (options.models.length === 0) throw new Error("bench run: no model given");
  const template = options.template ?? benchmark.template;
  const mode = resolveGrader({ template, rubric: options.rubric ?? benchmark.rubric }).mode;
  if (mode !== (benchmark.kind === "score" ? "absolute" : "pairwise")) {
    throw new Error(`benchmark "${benchmark.name}" is ${benchmark.kind === "score" ? "absolute grading" : "pairwise"}, but template "${template}" grades ${mode}`);
  }
  await mkdir(options.outDir, { recursive: true });
  const { records, skipped, input } = await prepareInput(benchmark, options);
  if (records === 0) throw new Error(`benchmark "${benchmark.name}": no usable records (see ${path.join(options.outDir, "skipped.jsonl")})`);

  const { benchmark: _b, models, dataDir: _d, outDir, limit: _l, bootstrap, bootstrapSeed, baseURLs, ...judgeOptions } = options;
  if (baseURLs && baseURLs.length > 1 && baseURLs.length !== models.length) {
    throw new Error(`${baseURLs.length} --base-url values for ${models.length} --model values: give one, or one per model`);
  }
  const judges: BenchRunResult["judges"] = [];
  const slugs = uniqueSlugs(models.map(modelName));
  for (const [i, model] of models.entries()) {
    const output = path.join(outDir, `judgments-${slugs[i]}.jsonl`);
    const summary = await judge({
      ...judgeOptions,
      template,
      rubric: options.rubric ?? benchmark.rubric,
      input,
      output,
      model,
      // Each compared judge may have its own server.
      ...(baseURLs && baseURLs.length === models.length ? { baseURL: baseURLs[i] } : {}),
    });
    judges.push({ model: modelName(model), output, summary });
    if (summary.status === "interrupted") return { benchmark, input, records, skipped, judges, status: "interrupted" };
  }

  const result = await metaEval({
    files: judges.map((j) => j.output),
    names: displayNames(judges.map((j) => j.model)),
    gold: benchmark.gold,
    kind: benchmark.kind,
    id: "id",
    ...(benchmark.by ? { by: benchmark.by } : {}),
    ...(benchmark.kind === "score" ? { scale: [1, 2, 3, 4, 5] } : {}),
    ...(bootstrap !== undefined ? { bootstrap } : {}),
    ...(bootstrapSeed !== undefined ? { seed: bootstrapSeed } : {}),
  });
  const reportDir = path.join(outDir, "report");
  await writeReport(result, reportDir);
  return { benchmark, input, records, skipped, judges, status: "finished", metaEval: result, reportDir };
}

/** Writes the benchmark in critic's field names to `<outDir>/input.jsonl`, streaming. */
async function prepareInput(benchmark: Benchmark, options: BenchRunOptions): Promise<{ records: number; skipped: number; input: string }> {
  const input = path.join(options.outDir, "input.jsonl");
  const writer = await createRecordWriter(input, { format: "jsonl" });
  const skippedPath = path.join(options.outDir, "skipped.jsonl");
  await rm(skippedPath, { force: true });
  const skippedWriter = createRejectsWriter(skippedPath);
  let records = 0;
  let skipped = 0;
  try {
    for await (const item of benchmark.items(options.dataDir)) {
      if (options.limit !== undefined && records >= options.limit) break;
      if (item.ok) {
        await writer.write(item.record);
        records++;
      } else {
        await skippedWriter.write({ file: item.file, line: item.line, reason: item.reason });
        skipped++;
      }
    }
  } finally {
    await writer.close();
    await skippedWriter.close();
  }
  return { records, skipped, input };
}

function modelName(model: string | Backend): string {
  return typeof model === "string" ? model : `${model.kind}:${model.model}`;
}

/** Model files are shown by their file names (unless two share one); other specs as given. */
function displayNames(models: string[]): string[] {
  const short = models.map((m) => (/\.gguf$/i.test(m) ? path.basename(m) : m));
  return new Set(short).size === short.length ? short : models;
}

/** File-name-safe, distinct names for the judges' output files. */
function uniqueSlugs(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const base = path.basename(name).replace(/\.gguf$/i, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "judge";
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}
