/**
 * `critic export`: judgments, pairs or revisions -> training sets (TRL SFT/DPO/KTO/reward,
 * OpenAI fine-tuning, Alpaca, Criticon/Prometheus critique SFT), split into train and test.
 *
 * Two streaming passes over the inputs: the first collects a hash per prompt (only of records that
 * give a row in some requested format) to choose the test prompts; the second converts the records
 * again and writes each row to its split. Records are never held in memory.
 *
 * classify / regress (score formats) also record in export.json what a judge package needs (labels,
 * scale, template and its options); see score-rows.ts.
 *
 * Layout: one format -> <out>/train.jsonl, <out>/test.jsonl, <out>/export.json, <out>/README.md
 * (and train/test.parquet with `parquet`); several formats -> the same files in <out>/<format>/.
 */
import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readRecords } from "../records/read.js";
import { createRecordWriter, createRejectsWriter, type RecordWriter } from "../records/write.js";
import type { Reject } from "../records/types.js";
import { loadRubric } from "../templates/index.js";
import type { JudgeTemplate, Rubric } from "../templates/types.js";
import { buildManifest, renderCard, type HeadInfo } from "./card.js";
import { builtinTemplate, resolveTemplate, type CritiqueOptions } from "./critique.js";
import { DEFAULT_SCORE_TEMPLATE, scaleLabels } from "./score-rows.js";
import { buildRows, FORMATS, type BuildOptions } from "./formats.js";
import { rowSchemaFor } from "./schemas.js";
import { classifyRecord, type Classified } from "./sources.js";
import { applyHumanLabels, type HumanOutcome } from "./human-labels.js";
import { labelFileWarnings, labelIdOf, readLabelsFile, type LabelStore } from "../records/labels.js";
import { ambiguousLabelsWarning, duplicateIdWarning, labelKeysOfFile, type LabelKeys } from "../records/label-keys.js";
import { chooseTestGroups, promptGroup, rowKey } from "./split.js";
import { FORMAT_NAMES, type FormatCounts, type FormatName, type FormatResult, type InputKind, type JudgeMeta, type JudgeSummaryRow, type SkipReason } from "./types.js";

export interface ExportOptions extends Omit<CritiqueOptions, "rubric"> {
  /** Input file(s): JSONL, JSON, CSV/TSV or Parquet (optionally .gz). */
  input: string | string[];
  /** Output folder. */
  outDir: string;
  formats: FormatName[];
  /** Force the input kind instead of telling it per record. */
  from?: InputKind;
  /** Test share of the distinct prompts in [0, 1), or a whole number of prompts. Default 0.1. */
  testSize?: number;
  /** Seed of the split. Default 0. */
  seed?: number;
  /** Drop exact duplicate rows (per format). */
  dedupe?: boolean;
  /** Also write train.parquet and test.parquet. */
  parquet?: boolean;
  /** Conversational variant of sft-prompt-completion and kto. */
  conversational?: boolean;
  /** kto from absolute judgments: label a response desirable when its score is at least this. */
  ktoThreshold?: number;
  /** Template of the critique rows of sft-messages, sft-prompt-completion, alpaca and openai-sft (default: each judgment's own). */
  template?: string | JudgeTemplate;
  /** Rubric name, YAML file or object the judgments were made with; as in `critic judge`, it wins over the records' own rubric fields. */
  rubric?: string | Rubric;
  /** Field renames, new name -> old name. */
  map?: Record<string, string>;
  /** Bad records go here as JSONL (only created when there are any). */
  rejects?: string;
  /**
   * Human labels from `critic view` (JSONL): only labelled judgments are exported, with the human
   * verdict; corrections become preference pairs against the judge's critique (see human-labels.ts).
   */
  labels?: string;
  /**
   * classify / regress: PHUDGE's prompt form, train rows dropping the rubric and the reference
   * answer each with this probability (test rows keep both). Needs the prometheus-absolute template.
   */
  augmentDrop?: number;
}


export interface ExportSummary {
  outDir: string;
  read: number;
  rejected: number;
  /** Rejects file, when anything was written to it. */
  rejects: string | null;
  /** The first rejected (unreadable or invalid) record, for a message naming file and line. */
  firstReject?: Reject;
  kinds: Record<InputKind, number>;
  formats: FormatResult[];
  /** --labels: what the humans made of the judgments they labelled. */
  human?: { file: string; warnings: string[] } & Record<HumanOutcome, number>;
}

/** Writes the training sets; see the module comment for the layout. */
export async function exportDataset(options: ExportOptions): Promise<ExportSummary> {
  const inputs = Array.isArray(options.input) ? options.input : [options.input];
  const formats = checkFormats(options.formats);
  for (const file of inputs) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file}: no such file`);
  }
  const testSize = options.testSize ?? 0.1;
  const seed = options.seed ?? 0;
  checkAugmentDrop(options, formats);
  const build: BuildOptions = {
    conversational: options.conversational ?? false,
    ...(options.ktoThreshold !== undefined ? { ktoThreshold: options.ktoThreshold } : {}),
    round: options.round ?? false,
    systemInUser: options.systemInUser ?? false,
    ...(options.template !== undefined ? { template: typeof options.template === "string" ? resolveTemplate(options.template) : options.template } : {}),
    ...(options.rubric !== undefined ? { rubric: typeof options.rubric === "string" ? loadRubric(options.rubric) : options.rubric } : {}),
    ...(options.labels !== undefined ? { humanLabels: true } : {}),
    ...(options.augmentDrop !== undefined ? { augmentDrop: options.augmentDrop, seed } : {}),
  };
  const labels = options.labels !== undefined ? readLabelsFile(options.labels) : undefined;
  const human: Record<HumanOutcome, number> = { agreed: 0, corrected: 0, "corrected-without-note": 0 };
  const humanWarnings = labels ? labelFileWarnings(labels) : [];
  // The same keys critic view labels by: records that share an id are keyed by line.
  const keysOf = new Map<string, LabelKeys>();
  if (labels) {
    for (const file of inputs) {
      const keys = await labelKeysOfFile(file, { map: options.map });
      keysOf.set(file, keys);
      const duplicates = keys.duplicates();
      for (const w of [duplicateIdWarning(file, duplicates), ambiguousLabelsWarning(options.labels as string, labels, duplicates)]) if (w) humanWarnings.push(w);
    }
  }

  // Pass 1: the prompts of every record that gives a row somewhere.
  const groups = new Set<string>();
  for (const file of inputs) {
    for await (const { record, line } of readRecords(file, { map: options.map })) {
      const classified = withLabels(classifyRecord(record, options.from), record, line, labels, keysOf.get(file));
      if (classified.status !== "example") continue;
      if (formats.some((format) => !("skip" in buildRows(format, classified.example, build)))) groups.add(promptGroup(classified.example.prompt));
    }
  }
  const testGroups = chooseTestGroups(groups, testSize, seed);
  groups.clear();

  // Pass 2: convert again and write.
  const several = formats.length > 1;
  const outputs = await Promise.all(formats.map((format) => openFormat(format, several ? join(options.outDir, format) : options.outDir, options.parquet ?? false, build.conversational ?? false)));
  const rejects = options.rejects ? createRejectsWriter(options.rejects) : undefined;
  const kinds: Record<InputKind, number> = { judgments: 0, pairs: 0, revisions: 0 };
  let read = 0;
  let rejected = 0;
  let firstReject: Reject | undefined;
  const reject = async (entry: Reject & { format?: FormatName }) => {
    if (entry.format === undefined) firstReject ??= entry;
    await rejects?.write(entry as unknown as Record<string, unknown>);
  };
  const pendingRejects: Reject[] = [];
  try {
    for (const file of inputs) {
      for await (const sourced of readRecords(file, { map: options.map, onReject: (r) => pendingRejects.push(r) })) {
        for (const r of pendingRejects.splice(0)) {
          rejected++;
          await reject(r);
        }
        read++;
        const classified = withLabels(classifyRecord(sourced.record, options.from), sourced.record, sourced.line, labels, keysOf.get(file), human);
        if (classified.status === "invalid") {
          rejected++;
          await reject({ file, line: sourced.line, ...(classified.field ? { field: classified.field } : {}), reason: classified.reason, record: sourced.record });
          continue;
        }
        kinds[classified.kind]++;
        if (classified.status === "skip") {
          for (const output of outputs) output.skip(classified.reason);
          continue;
        }
        const example = classified.example;
        const group = promptGroup(example.prompt);
        const split = testGroups.has(group) ? "test" : "train";
        for (const output of outputs) {
          const built = buildRows(output.format, example, { ...build, split });
          if ("skip" in built) {
            output.skip(built.skip);
            if (built.skip === "missing-field") {
              const problem = { file, line: sourced.line, format: output.format, reason: built.detail ?? built.skip };
              output.firstProblem ??= problem;
              await reject(problem);
            }
            continue;
          }
          let wrote = false;
          for (const row of built.rows) {
            const valid = output.schema.safeParse(row);
            if (!valid.success) {
              output.skip("invalid-row");
              const issue = valid.error.issues[0]!;
              const problem = { file, line: sourced.line, format: output.format, reason: `${output.format} row: ${issue.path.join(".")} ${issue.message}`.trim() };
              output.firstProblem ??= problem;
              await reject(problem);
              continue;
            }
            if (options.dedupe) {
              const key = rowKey(row);
              if (output.seen.has(key)) {
                output.skip("duplicate");
                continue;
              }
              output.seen.add(key);
            }
            await output.write(split, row, group);
            wrote = true;
          }
          if (!wrote) continue;
          if (built.template) output.templates[built.template] = (output.templates[built.template] ?? 0) + 1;
          if (example.kind === "judgment") output.judge(example.judge);
        }
      }
      for (const r of pendingRejects.splice(0)) {
        rejected++;
        await reject(r);
      }
    }
  } finally {
    await Promise.all(outputs.map((output) => output.close()));
    await rejects?.close();
  }

  const results: FormatResult[] = [];
  for (const output of outputs) {
    const counts: FormatCounts = {
      read,
      rejected,
      skipped: output.skipped,
      train: output.rows.train,
      test: output.rows.test,
      trainPrompts: output.prompts.train.size,
      testPrompts: output.prompts.test.size,
    };
    const result: FormatResult = {
      format: output.format,
      dir: output.dir,
      counts,
      templates: output.templates,
      judges: output.judges(),
      ...(output.firstProblem ? { firstProblem: output.firstProblem } : {}),
    };
    const manifest = buildManifest({
      result,
      conversational: FORMATS[output.format].conversational(build.conversational ?? false),
      parquet: options.parquet ?? false,
      source: inputs,
      kinds,
      seed,
      testSize,
      dedupe: options.dedupe ?? false,
      round: build.round ?? false,
      ...(FORMATS[output.format].family === "score" ? { head: headInfo(output.format as "classify" | "regress", output.templates, build.template, options.augmentDrop) } : {}),
    });
    await writeFile(join(output.dir, "export.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(join(output.dir, "README.md"), renderCard(manifest));
    results.push(result);
  }
  return {
    outDir: options.outDir,
    read,
    rejected,
    rejects: rejects && rejects.count > 0 ? options.rejects! : null,
    ...(firstReject ? { firstReject } : {}),
    kinds,
    formats: results,
    ...(options.labels !== undefined ? { human: { file: options.labels, warnings: humanWarnings, ...human } } : {}),
  };
}

function checkAugmentDrop(options: ExportOptions, formats: FormatName[]): void {
  const p = options.augmentDrop;
  if (p === undefined) return;
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new Error(`--augment-drop must be a probability in [0, 1], got ${p}`);
  if (!formats.some((f) => FORMATS[f].family === "score")) throw new Error("--augment-drop applies to the classify and regress formats only");
  const template = options.template === undefined ? DEFAULT_SCORE_TEMPLATE : typeof options.template === "string" ? resolveTemplate(options.template).name : options.template.name;
  if (template !== DEFAULT_SCORE_TEMPLATE) throw new Error(`--augment-drop cuts Prometheus absolute prompts into PHUDGE's sections; it needs --template ${DEFAULT_SCORE_TEMPLATE}, not ${template}`);
}

/** export.json `head` of a score format: its labels, scale and the one template its rows were rendered with. */
function headInfo(kind: "classify" | "regress", templates: Record<string, number>, given: JudgeTemplate | undefined, augmentDrop: number | undefined): HeadInfo {
  const names = Object.keys(templates);
  const template = names.length === 1 ? names[0]! : null;
  const scale = template ? (given?.name === template ? given.scale : builtinTemplate(template)?.scale) ?? null : null;
  return {
    kind,
    labels: kind === "classify" && scale ? scaleLabels(scale) : null,
    scale: scale ? { min: scale.min, max: scale.max } : null,
    template,
    template_options: { system_in_user: true, ...(augmentDrop !== undefined ? { prompt_form: "phudge" as const, augment_drop: augmentDrop } : {}) },
  };
}

/** --labels: a judgment as the humans labelled it, or the reason it gives no row. */
function withLabels(classified: Classified, record: Record<string, unknown>, line: number, labels: LabelStore | undefined, keys: LabelKeys | undefined, counts?: Record<HumanOutcome, number>): Classified {
  if (!labels || classified.status !== "example" || classified.example.kind !== "judgment") return classified;
  const base = labelIdOf(record, line);
  const applied = applyHumanLabels(classified.example, labels.labelsOf(keys ? keys.keyOf(base, line) : base));
  if ("skip" in applied) {
    if (counts && applied.skip === "correction-without-note") counts["corrected-without-note"]++;
    return { status: "skip", kind: classified.kind, reason: applied.skip };
  }
  if (counts) counts[applied.outcome]++;
  return { ...classified, example: applied.example };
}

function checkFormats(formats: readonly string[]): FormatName[] {
  if (formats.length === 0) throw new Error(`no format: pass one or more of ${FORMAT_NAMES.join(", ")}`);
  for (const format of formats) {
    if (!(FORMAT_NAMES as readonly string[]).includes(format)) throw new Error(`unknown format "${format}"; formats: ${FORMAT_NAMES.join(", ")}`);
  }
  return [...new Set(formats)] as FormatName[];
}

interface FormatOutput {
  format: FormatName;
  dir: string;
  schema: ReturnType<typeof rowSchemaFor>;
  seen: Set<string>;
  skipped: Partial<Record<SkipReason, number>>;
  rows: { train: number; test: number };
  prompts: { train: Set<string>; test: Set<string> };
  templates: Record<string, number>;
  firstProblem?: Reject;
  skip(reason: SkipReason): void;
  judge(meta: JudgeMeta | undefined): void;
  judges(): JudgeSummaryRow[];
  write(split: "train" | "test", row: Record<string, unknown>, group: string): Promise<void>;
  close(): Promise<void>;
}

async function openFormat(format: FormatName, dir: string, parquet: boolean, conversational: boolean): Promise<FormatOutput> {
  const writers: Record<"train" | "test", RecordWriter[]> = { train: [], test: [] };
  for (const split of ["train", "test"] as const) {
    writers[split].push(await createRecordWriter(join(dir, `${split}.jsonl`), { format: "jsonl" }));
    if (parquet) writers[split].push(await createRecordWriter(join(dir, `${split}.parquet`), { format: "parquet" }));
  }
  const judges = new Map<string, JudgeSummaryRow>();
  const output: FormatOutput = {
    format,
    dir,
    schema: rowSchemaFor(format, conversational),
    seen: new Set(),
    skipped: {},
    rows: { train: 0, test: 0 },
    prompts: { train: new Set(), test: new Set() },
    templates: {},
    skip(reason) {
      output.skipped[reason] = (output.skipped[reason] ?? 0) + 1;
    },
    judge(meta) {
      const row: JudgeSummaryRow = {
        backend: meta?.backend ?? null,
        model: meta?.model ?? null,
        template: meta?.template ?? null,
        samples: meta?.samples ?? null,
        swap: meta?.swap ?? null,
        rubric: meta?.rubric?.criteria ?? null,
        params: meta?.params ? JSON.stringify(meta.params) : null,
        records: 0,
      };
      const key = JSON.stringify([row.backend, row.model, row.template, row.samples, row.swap, row.rubric, row.params]);
      const known = judges.get(key) ?? row;
      known.records++;
      judges.set(key, known);
    },
    judges: () => [...judges.values()].sort((a, b) => b.records - a.records),
    async write(split, row, group) {
      for (const writer of writers[split]) await writer.write(row);
      output.rows[split]++;
      output.prompts[split].add(group);
    },
    async close() {
      for (const writer of [...writers.train, ...writers.test]) await writer.close();
    },
  };
  return output;
}
