import path from "node:path";
import type { Command } from "commander";
import { BENCHMARKS, missingFiles, runBenchmark } from "../benchmarks/index.js";
import { formatValue, metricName } from "../metaeval/index.js";
import { formatSummary } from "./judge.js";
import { addJudgeOptions, judgeOptionsFrom, NO_MODEL_MESSAGE, type JudgeCliOptions } from "./judge-options.js";
import { interruptSignal, positiveInt, wholeNumber } from "./options.js";
import { plural } from "../util/plural.js";

const DEFAULT_DATA = process.env.CRITIC_DATA ?? "../shared/data";

export function registerBench(program: Command): void {
  const bench = program.command("bench").description("run a judge on a known human-labelled benchmark (judge + meta-eval)");

  bench
    .command("list")
    .description("the benchmarks critic can load, and whether the data folder has them")
    .option("--data <dir>", "data folder ($CRITIC_DATA, default ../shared/data)", DEFAULT_DATA)
    .action((opts: { data: string }) => {
      for (const b of BENCHMARKS) {
        const missing = missingFiles(b, opts.data);
        const state = missing.length === 0 ? "ready" : `missing ${missing.join(", ")}`;
        process.stdout.write(`${b.name.padEnd(20)} ${b.kind.padEnd(9)} ${b.title}\n${"".padEnd(31)}labels: ${b.labels}\n${"".padEnd(31)}${state}\n`);
      }
    });

  const run = bench
    .command("run")
    .description("judge a benchmark with one or more models and write judgments, metrics and a report")
    .argument("<name>", `benchmark: ${BENCHMARKS.map((b) => b.name).join(" | ")}`)
    .option("--data <dir>", "data folder ($CRITIC_DATA, default ../shared/data)", DEFAULT_DATA)
    .option("-o, --out <dir>", "run folder (default critic-bench/<name>)")
    .option("--limit <n>", "only the first n records (a quick look)", positiveInt)
    .option("--bootstrap <n>", "bootstrap resamples for confidence intervals", wholeNumber, 1000);
  addJudgeOptions(run, { repeatModel: "repeat to compare judges in one table" }).action(async (name: string, opts: BenchCliOptions) => {
    const models = opts.model.length > 0 ? opts.model : process.env.CRITIC_MODEL ? [process.env.CRITIC_MODEL] : [];
    if (models.length === 0) throw new Error(NO_MODEL_MESSAGE);
    const interrupt = interruptSignal(() => process.stderr.write("\nstopping: finishing the calls in flight (Ctrl-C again to quit now)\n"));
    try {
      const result = await runBenchmark({
        ...judgeOptionsFrom(opts),
        benchmark: name,
        models,
        dataDir: opts.data,
        outDir: opts.out ?? path.join("critic-bench", name),
        limit: opts.limit,
        bootstrap: opts.bootstrap,
        signal: interrupt.signal,
      });
      const lines = [`${result.benchmark.name}: ${plural(result.records, "record")}${result.skipped > 0 ? `, ${result.skipped} skipped (see skipped.jsonl)` : ""}`];
      for (const j of result.judges) lines.push(`${j.model}:`, ...formatSummary(j.summary).trimEnd().split("\n").map((l) => `  ${l}`));
      if (result.status === "interrupted") {
        lines.push("interrupted: run the same command again to resume (finished calls are cached)");
        process.exitCode = 130;
      } else if (result.metaEval) {
        const headline = result.metaEval.headline;
        for (const judge of result.metaEval.judges) {
          const metric = (judge.metrics as unknown as Record<string, Parameters<typeof formatValue>[0]>)[headline];
          lines.push(`${judge.name}: ${metricName(headline)} ${formatValue(metric)}`);
        }
        lines.push(`report: ${path.join(result.reportDir!, "report.html")}`);
      }
      process.stderr.write(`${lines.join("\n")}\n`);
    } finally {
      interrupt.dispose();
    }
  });
}

interface BenchCliOptions extends JudgeCliOptions {
  model: string[];
  data: string;
  out?: string;
  limit?: number;
  bootstrap: number;
}
