import { writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { parseFieldMap } from "../records/read.js";
import { checkRequirements, formatGate, parseRequirement } from "../metaeval/gate.js";
import { formatPValue, formatValue, metaEval, metricName, writeReport, type MetaEvalResult } from "../metaeval/index.js";
import { collect, wholeNumber } from "./options.js";
import { plural } from "../util/plural.js";

export function registerMetaEval(program: Command): void {
  program
    .command("meta-eval")
    .description("measure a judge against human labels: correlations, agreement, kappa, bias probes; writes a report")
    .argument("<files...>", "judgment files (.jsonl, .json, .csv, .parquet); several files = several judges on the same records")
    .option("--gold <fields>", "gold field, or one field per rater: --gold annotator1,annotator2 (a field holding a list counts each entry as a rater)")
    .option("--gold-file <labels.jsonl>", "human labels made with critic view as gold, joined by record id (each annotator a rater)")
    .requiredOption("-o, --output <dir>", "report folder: metrics.json, report.md, report.html, charts/")
    .option("--pred <field>", "prediction field (default: score, or winner for pairwise)")
    .option("--kind <kind>", "score | pairwise (default: pairwise when records have a winner field)", kindOption)
    .option("--by <field>", "break every metric down by this field (task type, source model, ...)")
    .option("--id <field>", "field that identifies a record, to line several judges up (default: row order)")
    .option("--map <new=old>", "rename a field before reading, e.g. --map response=output (repeatable)", collect, [])
    .option("--label-map <spec>", 'pairwise labels as written in the data, e.g. "A=0,B=1,tie=2" (default: A/B/tie and 1/2/0)')
    .option("--gold-aggregate <how>", "several raters on scores: mean | majority (pairwise always uses the majority)", aggregateOption, "mean")
    .option("--headline <metric>", "metric for comparing judges (default pearson, or accuracyWithTies for pairwise)")
    .option("--seed <n>", "bootstrap seed", wholeNumber, 20240501)
    .option("--bootstrap <n>", "bootstrap resamples (0: no intervals)", wholeNumber, 1000)
    .option("--confidence <level>", "interval level", confidenceOption, 0.95)
    .option("--top <n>", "disagreements listed per judge", wholeNumber, 10)
    .option("--scale <min-max>", "the rating scale, e.g. 1-5 (default: whole numbers between the lowest and highest seen)", scaleOption)
    .option("--name <name>", "judge name, one per file in order (repeatable; default: file names)", collect, [])
    .option("--response <field>", "response text for length bias (absolute)", "response")
    .option("--response-a <field>", "first response text for length bias (pairwise)", "response_a")
    .option("--response-b <field>", "second response text for length bias (pairwise)", "response_b")
    .option("--require <metric op value>", 'fail (exit 1) unless every judge meets it, e.g. "kappa>=0.6", "position_consistency>=0.85" (repeatable)', collect, [])
    .action(async (files: string[], opts: MetaEvalCliOptions) => {
      const started = performance.now();
      const requirements = opts.require.map(parseRequirement);
      if (opts.gold === undefined && opts.goldFile === undefined) throw new Error("meta-eval: say where gold labels are: --gold <field> or --gold-file <labels.jsonl>");
      const result = await metaEval({
        files,
        ...(opts.name.length > 0 ? { names: opts.name } : {}),
        ...(opts.gold !== undefined ? { gold: opts.gold.split(",") } : {}),
        ...(opts.goldFile !== undefined ? { goldFile: opts.goldFile } : {}),
        pred: opts.pred,
        kind: opts.kind,
        by: opts.by,
        id: opts.id,
        map: opts.map.length > 0 ? parseFieldMap(opts.map) : undefined,
        labelMap: opts.labelMap,
        goldAggregate: opts.goldAggregate,
        headline: opts.headline,
        seed: opts.seed,
        bootstrap: opts.bootstrap,
        confidence: opts.confidence,
        top: opts.top,
        scale: opts.scale,
        responseField: opts.response,
        responseAField: opts.responseA,
        responseBField: opts.responseB,
      });
      // Names are checked before the report is written, so a typo fails at once.
      const gate = requirements.length > 0 ? checkRequirements(result, requirements) : undefined;
      const written = await writeReport(result, opts.output);
      process.stderr.write(summarize(result, written.dir, (performance.now() - started) / 1000));
      // A judgments file without a single row measured nothing: that is a failure, not "0 of 0".
      for (const judge of result.judges.filter((j) => j.coverage.rows === 0)) {
        const unreadable = judge.coverage.unreadableRows;
        process.stderr.write(`meta-eval: ${judge.file} holds no records (${unreadable > 0 ? `${unreadable} could not be read: see the report` : "the file is empty"}); nothing was evaluated\n`);
        process.exitCode = 1;
      }
      if (gate) {
        await writeFile(path.join(written.dir, "gate.json"), `${JSON.stringify(gate, null, 2)}\n`);
        process.stdout.write(formatGate(gate));
        if (!gate.passed) process.exitCode = 1;
      }
    });
}

interface MetaEvalCliOptions {
  require: string[];
  gold?: string;
  goldFile?: string;
  output: string;
  pred?: string;
  kind?: "score" | "pairwise";
  by?: string;
  id?: string;
  map: string[];
  labelMap?: string;
  goldAggregate: "mean" | "majority";
  headline?: string;
  seed: number;
  bootstrap: number;
  confidence: number;
  top: number;
  scale?: number[];
  name: string[];
  response: string;
  responseA: string;
  responseB: string;
}

function kindOption(value: string): "score" | "pairwise" {
  if (value === "score" || value === "absolute") return "score";
  if (value === "pairwise") return "pairwise";
  throw new InvalidArgumentError(`expected score or pairwise, got "${value}"`);
}

function aggregateOption(value: string): "mean" | "majority" {
  if (value === "mean" || value === "majority") return value;
  throw new InvalidArgumentError(`expected mean or majority, got "${value}"`);
}

function confidenceOption(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a level between 0 and 1 (e.g. 0.95), got "${value}"`);
  return n;
}

function scaleOption(value: string): number[] {
  const m = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/.exec(value);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || hi <= lo) throw new InvalidArgumentError(`expected a whole-number range like 1-5, got "${value}"`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

const SUMMARY_LABELS: Record<string, string> = {
  pearson: "Pearson r",
  spearman: "Spearman rho",
  kendallTau: "Kendall tau-b",
  quadraticKappa: "quadratic-weighted kappa",
  accuracyWithTies: "accuracy with ties",
  accuracyWithoutTies: "accuracy without ties",
  kappa: "Cohen's kappa",
};

const summaryLabel = (id: string) => SUMMARY_LABELS[id] ?? metricName(id);

function summarize(result: MetaEvalResult, dir: string, seconds: number): string {
  const lines: string[] = (result.warnings ?? []).map((w) => `warning: ${w}`);
  const shown = result.kind === "score" ? ["pearson", "spearman", "kendallTau", "quadraticKappa"] : ["accuracyWithTies", "accuracyWithoutTies", "kappa"];
  for (const judge of result.judges) {
    const c = judge.coverage;
    lines.push(`${judge.name}: ${c.evaluated} of ${plural(c.rows, "row")} evaluated${c.rows > c.evaluated ? ` (${c.rows - c.evaluated} not: see the report)` : ""}`);
    for (const name of shown) {
      const m = (judge.metrics as unknown as Record<string, { value: number | null; reason?: string; ci?: [number, number] }>)[name];
      const ci = m?.ci ? ` [${m.ci[0].toFixed(3)}, ${m.ci[1].toFixed(3)}]` : "";
      lines.push(`  ${summaryLabel(name).padEnd(26)} ${formatValue(m)}${ci}`);
    }
    const conf = judge.confidence;
    if (conf) {
      if (conf.expected) lines.push(`  ${"Pearson of score_expected".padEnd(26)} ${formatValue(conf.expected.pearson)}`);
      lines.push(`  ${"calibration error (ECE)".padEnd(26)} ${formatValue(conf.ece)} over ${plural(conf.rows, "row")} with a distribution`);
    }
  }
  if (result.raters) lines.push(`raters: ${result.raters.names.length}, Fleiss' kappa ${formatValue(result.raters.fleiss)}`);
  const c = result.comparison;
  if (c) {
    lines.push(`judges compared on the ${c.rows} rows all of them predicted (${summaryLabel(c.metric)}, paired bootstrap):`);
    for (const r of c.table) {
      if (!r.difference) continue;
      const ci = r.difference.ci ? ` [${r.difference.ci[0].toFixed(3)}, ${r.difference.ci[1].toFixed(3)}]` : "";
      const shown = r.difference.pValue === null ? undefined : formatPValue(r.difference.pValue, result.settings.bootstrap);
      const p = shown === undefined ? "" : `, p ${shown.startsWith("<") ? shown : `= ${shown}`}`;
      lines.push(`  ${r.judge} minus ${c.reference}: ${formatValue(r.difference)}${ci}${p}`);
    }
  }
  lines.push(`report: ${path.join(dir, "report.html")}, report.md, metrics.json (${seconds.toFixed(1)}s)`);
  return `${lines.join("\n")}\n`;
}
