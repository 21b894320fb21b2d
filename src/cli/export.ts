import { InvalidArgumentError, type Command } from "commander";
import { parseFieldMap } from "../records/read.js";
import { exportDataset, type ExportSummary } from "../export/export.js";
import { exportLangfuseScores } from "../export/langfuse.js";
import { FORMAT_NAMES, INPUT_KINDS, SKIP_REASONS, type FormatName, type InputKind, type SkipReason } from "../export/types.js";
import { plural } from "../util/plural.js";
import { collect, finiteNumber, wholeNumber } from "./options.js";

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("turn judgments, preference pairs or revisions into training sets (TRL SFT/DPO/KTO/reward, OpenAI, Alpaca, classify/regress heads) with a train/test split")
    .argument("<inputs...>", "judgments (critic judge), pairs (critic generate pairs) or revisions (critic generate revise): .jsonl, .json, .csv, .parquet")
    .requiredOption("-o, --out <dir>", "output folder: train.jsonl, test.jsonl, export.json, README.md (in <dir>/<format>/ when several formats)")
    .option("-f, --format <names>", `one or more of ${FORMAT_NAMES.join(", ")}, ${LANGFUSE} (repeatable or comma-separated)`, collectFormats)
    .option("--from <kind>", "judgments | pairs | revisions (default: told per record from its fields)", kindOption)
    .option("--test-size <x>", "test share of the distinct prompts, in [0, 1), or a whole number of prompts", testSizeOption, 0.1)
    .option("--seed <n>", "split seed", wholeNumber, 0)
    .option("--dedupe", "drop exact duplicate rows")
    .option("--round", "round non-integer scores (means over samples) to whole numbers instead of skipping them")
    .option("--parquet", "also write train.parquet and test.parquet")
    .option("--conversational", "sft-prompt-completion and kto: message lists instead of text")
    .option("--kto-threshold <score>", "kto from absolute judgments: a response scored at least this is desirable (label true)", finiteNumber)
    .option("-t, --template <name|file>", "critique template for sft-messages, sft-prompt-completion, alpaca, openai-sft (default: each judgment's own)")
    .option("-r, --rubric <name|file>", "the rubric the judgments were made with (critic judge --rubric); as there, it overrides the records' criteria fields")
    .option("--system-in-user", "critique prompts: system prompt at the head of the user message, no system message")
    .option("--map <new=old>", "rename a field, e.g. --map prompt=instruction (repeatable)", collect, [])
    .option("--rejects <file>", "write bad records here (JSONL, with file, line and reason)")
    .option("--augment-drop <p>", "classify/regress: PHUDGE's prompt form, train rows dropping the rubric and the reference answer each with probability p (e.g. 0.5)", probability)
    .option("--trace-field <field>", `${LANGFUSE}: the record field with the Langfuse trace id`, "trace_id")
    .option("--observation-field <field>", `${LANGFUSE}: the record field with the observation id the judgment evaluates`, "observation_id")
    .option("--score-name <name>", `${LANGFUSE}: the score's name (default critic.<template>)`)
    .option("--labels <file>", "human labels from critic view: export only labelled judgments, with the human verdict; corrections (with a note) as SFT targets and as preference pairs against the judge's critique")
    .action(async (inputs: string[], opts: ExportCliOptions) => {
      if (!opts.format || opts.format.length === 0) throw new Error(`no format: pass --format with one or more of ${FORMAT_NAMES.join(", ")}, ${LANGFUSE}`);
      if (opts.format.includes(LANGFUSE)) {
        const scores = await exportLangfuseScores(inputs, opts.out, {
          traceField: opts.traceField, observationField: opts.observationField,
          ...(opts.scoreName !== undefined ? { name: opts.scoreName } : {}),
          ...(opts.map.length > 0 ? { map: parseFieldMap(opts.map) } : {}),
        });
        for (const s of scores.skipped.slice(0, 10)) process.stderr.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
        if (scores.skipped.length > 10) process.stderr.write(`… and ${scores.skipped.length - 10} more skipped\n`);
        process.stderr.write(`${LANGFUSE}: ${scores.written} scores -> ${scores.file}${scores.skipped.length > 0 ? ` (${scores.skipped.length} judgments skipped)` : ""}\n`);
        if (scores.written === 0 && scores.skipped.length > 0) process.exitCode = 1;
      }
      const formats = opts.format.filter((f): f is FormatName => f !== LANGFUSE);
      if (formats.length === 0) return;
      const summary = await exportDataset({
        input: inputs,
        outDir: opts.out,
        formats,
        from: opts.from,
        testSize: opts.testSize,
        seed: opts.seed,
        dedupe: opts.dedupe,
        round: opts.round,
        parquet: opts.parquet,
        conversational: opts.conversational,
        ktoThreshold: opts.ktoThreshold,
        template: opts.template,
        rubric: opts.rubric,
        systemInUser: opts.systemInUser,
        map: opts.map.length > 0 ? parseFieldMap(opts.map) : undefined,
        rejects: opts.rejects,
        labels: opts.labels,
        augmentDrop: opts.augmentDrop,
      });
      process.stderr.write(formatExportSummary(summary));
      // A format with no rows is a failed export, not a quiet empty training set.
      if (summary.formats.some((f) => f.counts.train + f.counts.test === 0)) process.exitCode = 1;
    });
}

const LANGFUSE = "langfuse-scores";

interface ExportCliOptions {
  out: string;
  format?: Array<FormatName | typeof LANGFUSE>;
  traceField: string;
  observationField: string;
  scoreName?: string;
  from?: InputKind;
  testSize: number;
  seed: number;
  dedupe?: boolean;
  round?: boolean;
  parquet?: boolean;
  conversational?: boolean;
  ktoThreshold?: number;
  template?: string;
  rubric?: string;
  systemInUser?: boolean;
  map: string[];
  rejects?: string;
  labels?: string;
  augmentDrop?: number;
}

function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`expected a probability in [0, 1], got "${value}"`);
  return n;
}

function collectFormats(value: string, previous: Array<FormatName | typeof LANGFUSE> = []): Array<FormatName | typeof LANGFUSE> {
  const names = value.split(",").map((name) => name.trim()).filter((name) => name !== "");
  for (const name of names) {
    if (name !== LANGFUSE && !(FORMAT_NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown format "${name}"; formats: ${FORMAT_NAMES.join(", ")}, ${LANGFUSE}`);
  }
  return [...previous, ...(names as Array<FormatName | typeof LANGFUSE>)];
}

function kindOption(value: string): InputKind {
  if (!(INPUT_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${INPUT_KINDS.join(", ")}, got "${value}"`);
  return value as InputKind;
}

function testSizeOption(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n >= 1 && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`expected a fraction in [0, 1) or a whole number of prompts, got "${value}"`);
  }
  return n;
}

export function formatExportSummary(s: ExportSummary): string {
  const kinds = Object.entries(s.kinds).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`);
  const lines = [
    `read ${plural(s.read, "record")}${kinds.length > 0 ? ` (${kinds.join(", ")})` : ""}, rejected ${s.rejected}`,
  ];
  if (s.rejects) lines.push(`  rejects written to ${s.rejects}`);
  if (s.human) {
    for (const w of s.human.warnings) lines.push(`warning: ${w}`);
    lines.push(`human labels (${s.human.file}): ${s.human.agreed} agreed with the judge, ${s.human.corrected} corrected with a note, ${s.human["corrected-without-note"]} corrected without a note (no target text: add a note in critic view)`);
  }
  if (s.firstReject) lines.push(`  first rejected: ${s.firstReject.file}:${s.firstReject.line}: ${s.firstReject.reason}`);
  for (const f of s.formats) {
    const skipped = Object.entries(f.counts.skipped).map(([reason, n]) => `${reason} ${n}`);
    lines.push(
      `${f.format}: train ${f.counts.train}, test ${f.counts.test} rows (${f.counts.trainPrompts} / ${f.counts.testPrompts} prompts) -> ${f.dir}` +
        (skipped.length > 0 ? `\n  skipped: ${skipped.join(", ")}` : ""),
    );
    if (f.firstProblem) lines.push(`  first unusable: ${f.firstProblem.file}:${f.firstProblem.line}: ${f.firstProblem.reason}`);
    if (f.counts.train + f.counts.test === 0) lines.push(...noRows(f.format, s.read - s.rejected, f.counts.skipped));
  }
  return `${lines.join("\n")}\n`;
}

/** Why a format got no rows, and what to do about the common cases. */
function noRows(format: FormatName, records: number, skipped: Partial<Record<SkipReason, number>>): string[] {
  const reasons = (Object.entries(skipped) as Array<[SkipReason, number]>).sort((a, b) => b[1] - a[1]);
  const why = reasons.map(([reason, n]) => `${reason} ${n} (${SKIP_REASONS[reason]})`).join(", ");
  const lines = [`error: ${format}: no rows from ${plural(records, "record")}${why ? `: ${why}` : ""}`];
  const has = (reason: SkipReason) => (skipped[reason] ?? 0) > 0;
  if (format === "kto" && has("no-pair")) lines.push("  pass --kto-threshold <score> to label absolute judgments (a score at or above it is desirable)");
  if (format === "criticon-sft" && has("scale-mismatch")) lines.push("  criticon-sft trains Criticon's 1-10 critiques; for these judgments use prometheus-sft, or sft-messages (each judgment's own template)");
  if (format === "prometheus-sft" && has("scale-mismatch")) lines.push("  prometheus-sft trains Prometheus' 1-5 critiques; for these judgments use criticon-sft, or sft-messages (each judgment's own template)");
  return lines;
}
