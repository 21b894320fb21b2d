import { hasVerdict, labelIdOf, readLabelsFile } from "../records/labels.js";
import { missingFieldMessage, readRecords, type RecordFormat } from "../records/read.js";
import type { Reject, SourcedRecord } from "../records/types.js";
import { compareJudges, type Headline, type JudgeComparison } from "./compare.js";
import { evaluateJudge, isEvaluated, raterReport, type JudgeReport, type RaterReport } from "./evaluate.js";
import { PAIRWISE_METRICS, SCORE_METRICS, type PairwiseMetricName, type ScoreMetricName } from "./metrics.js";
import { parseLabelMap, type LabelMap } from "./pairwise.js";
import { extractRow, getField, type ExtractOptions, type JudgmentRow, type Kind, type Label } from "./rows.js";
import { fleissKappa } from "./raters.js";

export interface MetaEvalOptions {
  /** Judgment files, one per judge (JSONL, JSON, CSV or Parquet). Several files must hold the same records. */
  files: string[];
  /** Judge names for the report (default: the file names). */
  names?: string[];
  /** Prediction field (default `score`, or `winner` for pairwise). */
  pred?: string;
  /** Gold field, or one field per rater. A field holding a list counts each entry as a rater. */
  gold?: string | string[];
  /**
   * A labels file (`critic view`) as gold instead: each annotator is a rater, joined to a record by
   * its `id` field, else its 0-based line number. Records nobody labelled count as without gold.
   */
  goldFile?: string;
  /** Inferred from the first record when absent: a `winner` field means pairwise. */
  kind?: Kind;
  /** Break every metric down by this field. */
  by?: string;
  /** Field that identifies a record, to line up several judges (default: row order). */
  id?: string;
  /** Field renames applied before anything else: new name -> old name. */
  map?: Record<string, string>;
  /** Pairwise label mapping: raw value -> verdict, or "A=0,B=1,tie=2". */
  labelMap?: LabelMap | string;
  /** How several raters make one gold label: scores default to the mean, verdicts are always the majority. */
  goldAggregate?: "mean" | "majority";
  seed?: number;
  /** Bootstrap replicates (default 1000; 0: no intervals). */
  bootstrap?: number;
  confidence?: number;
  /** Metric compared between judges (default pearson for scores, accuracyWithTies for pairwise). */
  headline?: string;
  /** Disagreements listed per judge (default 10). */
  top?: number;
  /** Every point of the rating scale, for scale use (default: whole numbers between the lowest and highest seen). */
  scale?: number[];
  responseField?: string;
  responseAField?: string;
  responseBField?: string;
  /** Input format when the extension does not say. */
  format?: RecordFormat;
}

export interface MetaEvalResult {
  kind: Kind;
  pred: string;
  gold: string[];
  by?: string;
  headline: string;
  settings: { seed: number; bootstrap: number; confidence: number; goldAggregate: "mean" | "majority"; top: number };
  raters?: RaterReport;
  judges: JudgeReport[];
  /** Several judges: the headline metric side by side, with paired bootstrap differences. */
  comparison?: JudgeComparison;
  notes: string[];
}

/**
 * Where a judge's records come from: called once per pass (two passes: metrics, then excerpts).
 * Rows the reader cannot read go to onReject; they are counted in the report.
 */
export type RecordSource = (onReject?: (reject: Reject) => void) => AsyncIterable<SourcedRecord> | Iterable<SourcedRecord>;

export interface JudgeSource {
  name: string;
  file: string;
  records: RecordSource;
}

/** The record with each `map` target added beside its source field (the source stays readable). */
function withMappedFields(record: Record<string, unknown>, map: Record<string, string> | undefined): Record<string, unknown> {
  return map ? { ...record, ...Object.fromEntries(Object.entries(map).map(([to, from]) => [to, record[from]])) } : record;
}

/** Meta-evaluates judgment files against gold labels. */
export async function metaEval(options: MetaEvalOptions): Promise<MetaEvalResult> {
  if (options.files.length === 0) throw new Error("meta-eval: no judgment files given");
  const { map, format, goldFile, ...rest } = options;
  const sources: JudgeSource[] = [];
  const notes: string[] = [];
  const human = goldFile !== undefined ? humanGold(goldFile, options.gold) : undefined;
  if (human) {
    rest.gold = human.fields;
    notes.push(human.note);
  }
  for (const [i, file] of options.files.entries()) {
    const records = (onReject?: (r: Reject) => void) => readRecords(file, { ...(format ? { format } : {}), ...(map ? { map } : {}), ...(onReject ? { onReject } : {}) });
    const read = human ? (onReject?: (r: Reject) => void) => human.join(records(onReject)) : records;
    const name = options.names?.[i] ?? defaultName(file, options.files);
    sources.push({ name, file, records: read });
    // A jury's file: each juror is measured as a judge of its own, and their agreement noted.
    const jury = await juryOf(read);
    if (jury) {
      jury.models.forEach((model, j) => sources.push({ name: `${name} / juror ${j + 1} (${model})`, file, records: (onReject) => jurorRecords(read(onReject), j) }));
      notes.push(await juryNote(name, jury.models, read));
    }
  }
  const result = await metaEvalRecords(sources, rest);
  result.notes.push(...notes);
  return result;
}

const HUMAN_PREFIX = "human:";

/** Gold from a labels file: one field per annotator (`human:<name>`), added to each record by its label id. */
function humanGold(file: string, gold: string | string[] | undefined): { fields: string[]; note: string; join: (records: AsyncIterable<SourcedRecord>) => AsyncIterable<SourcedRecord> } {
  if (gold !== undefined && (Array.isArray(gold) ? gold.length > 0 : gold !== "")) throw new Error("meta-eval: give --gold or --gold-file, not both");
  const store = readLabelsFile(file);
  const annotators = store.annotators().filter((name) => [...(store.byAnnotator.get(name)?.values() ?? [])].some(hasVerdict));
  if (annotators.length === 0) throw new Error(`meta-eval: ${file} has no label with a score or a winner yet`);
  const labelled = new Set<string>();
  for (const name of annotators) for (const [id, label] of store.byAnnotator.get(name) ?? []) if (hasVerdict(label)) labelled.add(id);
  return {
    fields: annotators.map((name) => `${HUMAN_PREFIX}${name}`),
    note: `Gold is the human labels in ${file}: ${labelled.size} records labelled by ${annotators.length} annotator${annotators.length > 1 ? "s" : ""} (${annotators.join(", ")}), joined by the record's id field, else its 0-based line number.`,
    async *join(records) {
      for await (const sourced of records) {
        const id = labelIdOf(sourced.record, sourced.line);
        const added: Record<string, unknown> = {};
        for (const name of annotators) {
          const label = store.get(name, id);
          added[`${HUMAN_PREFIX}${name}`] = hasVerdict(label) ? (label.winner ?? label.score) : null;
        }
        yield { ...sourced, record: { ...sourced.record, ...added } };
      }
    },
  };
}

interface JurorView {
  model: string;
  score?: unknown;
  winner?: unknown;
  error?: string;
  score_distribution?: unknown;
  score_expected?: unknown;
  winner_distribution?: unknown;
}

function jurorsOf(record: Record<string, unknown>): JurorView[] | undefined {
  const jurors = (record.judge as { jury?: { jurors?: unknown } } | undefined)?.jury?.jurors;
  return Array.isArray(jurors) ? (jurors as JurorView[]) : undefined;
}

/** The jurors of a jury's judgment file, from its first record; undefined for one judge. */
async function juryOf(read: () => AsyncIterable<SourcedRecord>): Promise<{ models: string[] } | undefined> {
  for await (const { record } of read()) {
    const jurors = jurorsOf(record);
    return jurors ? { models: jurors.map((j) => String(j.model)) } : undefined;
  }
  return undefined;
}

/** Records as juror `j` judged them: its verdict, error and distributions in the judgment's own fields. */
async function* jurorRecords(records: AsyncIterable<SourcedRecord>, j: number): AsyncIterable<SourcedRecord> {
  for await (const sourced of records) {
    const juror = jurorsOf(sourced.record)?.[j];
    const { score: _s, winner: _w, error: _e, score_distribution: _sd, score_expected: _se, winner_distribution: _wd, judge: _judge, ...rest } = sourced.record;
    const own = juror ? Object.fromEntries(Object.entries(juror).filter(([k]) => ["score", "winner", "error", "score_distribution", "score_expected", "winner_distribution"].includes(k))) : { error: "no such juror in this record" };
    yield { ...sourced, record: { ...rest, ...own } };
  }
}

/** Fleiss' kappa between a jury's jurors over the records they all judged (scores as categories). */
async function juryNote(name: string, models: string[], read: () => AsyncIterable<SourcedRecord>): Promise<string> {
  const labels: Array<Array<string | number | null>> = [];
  for await (const { record } of read()) {
    const jurors = jurorsOf(record) ?? [];
    labels.push(models.map((_, j) => {
      const juror = jurors[j];
      const value = juror && juror.error === undefined ? juror.score ?? juror.winner : null;
      return typeof value === "number" || typeof value === "string" ? value : null;
    }));
  }
  const kappa = fleissKappa(labels);
  return `${name} is a jury of ${models.length} (${models.join(", ")}); each juror is measured below as a judge of its own. Agreement between the jurors: Fleiss' kappa ${kappa.value === null ? `n/a (${kappa.reason})` : kappa.value.toFixed(3)} on ${kappa.items} records that all of them judged.`;
}

/** The same as metaEval, over records from anywhere (arrays, generators). */
export async function metaEvalRecords(sources: JudgeSource[], options: Omit<MetaEvalOptions, "files" | "names" | "format">): Promise<MetaEvalResult> {
  if (sources.length === 0) throw new Error("meta-eval: no judgments given");
  const gold = (Array.isArray(options.gold) ? options.gold : (options.gold ?? "").split(",")).map((g) => g.trim()).filter(Boolean);
  if (gold.length === 0) throw new Error("meta-eval: no gold field given (--gold <field>[,<field>...])");
  const labelMap = typeof options.labelMap === "string" ? parseLabelMap(options.labelMap) : options.labelMap;
  const settings = {
    seed: options.seed ?? 20240501,
    bootstrap: options.bootstrap ?? 1000,
    confidence: options.confidence ?? 0.95,
    goldAggregate: options.goldAggregate ?? "mean",
    top: options.top ?? 10,
  };
  if (!(settings.confidence > 0 && settings.confidence < 1)) throw new Error(`meta-eval: confidence must be between 0 and 1, got ${settings.confidence}`);

  const loaded: Array<{ source: JudgeSource; rows: JudgmentRow[]; rejects: Reject[] }> = [];
  let kind = options.kind;
  let pred = options.pred;
  for (const source of sources) {
    const rows: JudgmentRow[] = [];
    const rejects: Reject[] = [];
    let extract: ExtractOptions | undefined;
    // Fields a flag names that no record has are a typo, not "0 rows evaluated": checked below.
    const named = [...gold.map((g) => ["--gold", g]), ...(options.by ? [["--by", options.by]] : []), ...(options.id ? [["--id", options.id]] : [])] as Array<[string, string]>;
    const missing = new Map(named.map(([flag, field]) => [field, flag]));
    const keys = new Set<string>();
    let read = 0;
    for await (const { index, line, record } of source.records((r) => rejects.push(r))) {
      read++;
      const rec = missing.size > 0 || !extract ? withMappedFields(record, options.map) : record;
      if (missing.size > 0) {
        if (keys.size < 500) for (const key of Object.keys(rec)) keys.add(key);
        for (const field of [...missing.keys()]) if (getField(rec, field) !== undefined) missing.delete(field);
      }
      if (!extract) {
        kind ??= pred === "winner" || (pred === undefined && getField(rec, "winner") !== undefined) ? "pairwise" : "score";
        pred ??= kind === "pairwise" ? "winner" : "score";
        extract = {
          kind, pred, gold, goldAggregate: kind === "pairwise" ? "majority" : settings.goldAggregate, labelMap, map: options.map,
          by: options.by, id: options.id,
          responseField: options.responseField ?? "response",
          responseAField: options.responseAField ?? "response_a",
          responseBField: options.responseBField ?? "response_b",
        };
      }
      rows.push(extractRow(record, index, line, extract));
    }
    for (const [field, flag] of missing) if (read > 0) throw new Error(`meta-eval: ${missingFieldMessage(`${flag} ${field}`, field, keys, source.file)}`);
    loaded.push({ source, rows, rejects });
  }
  kind ??= options.kind ?? "score";
  pred ??= kind === "pairwise" ? "winner" : "score";
  if (kind === "pairwise") settings.goldAggregate = "majority";

  const headline = resolveHeadline(kind, options.headline);
  const aligned = align(loaded.map((l) => ({ name: l.source.name, file: l.source.file, rows: l.rows, rejects: l.rejects })), options.id);

  const first = aligned[0] as { rows: JudgmentRow[] };
  const raterTotal = first.rows.reduce((m, r) => Math.max(m, r.ratings.length), 0);
  const raterNames = raterTotal > 1 ? raterNamesOf(gold, raterTotal) : undefined;
  const raters = raterNames ? raterReport(kind, raterNames, first.rows, settings.goldAggregate) : undefined;

  const evaluateOptions = {
    kind,
    bootstrap: { iterations: settings.bootstrap, seed: settings.seed, confidence: settings.confidence },
    top: settings.top,
    ...(options.scale ? { scale: options.scale } : {}),
  };
  const judges = aligned.map((j) => evaluateJudge(j.name, j.file, j.rows, raterNames, evaluateOptions, j.rejects));

  const excerptFields = [
    ...new Set([
      "instruction", "prompt", "input", "question",
      ...(kind === "score" ? [options.responseField ?? "response"] : [options.responseAField ?? "response_a", options.responseBField ?? "response_b"]),
      "feedback",
    ]),
  ];
  for (const [j, judge] of judges.entries()) {
    if (judge.disagreements.length === 0) continue;
    const wanted = new Map(judge.disagreements.map((d) => [d.index, d]));
    for await (const { index, record } of (sources[j] as JudgeSource).records()) {
      const d = wanted.get(index);
      if (d) d.excerpt = excerptOf(record, excerptFields);
    }
  }

  const result: MetaEvalResult = {
    kind, pred, gold, headline: headline.metric, settings, judges, notes: notesFor(kind, judges, raters, gold, settings.goldAggregate),
    ...(options.by !== undefined ? { by: options.by } : {}),
    ...(raters ? { raters } : {}),
  };
  if (aligned.length > 1) {
    const common = first.rows.map((_, i) => i).filter((i) => aligned.every((j) => isEvaluated(j.rows[i] as JudgmentRow)));
    result.comparison = compareJudges(
      aligned.map((j) => j.name),
      aligned.map((j) => common.map((i) => (j.rows[i] as JudgmentRow).pred as Label)),
      common.map((i) => (first.rows[i] as JudgmentRow).gold as Label),
      headline,
      evaluateOptions.bootstrap,
    );
  }
  return result;
}

function resolveHeadline(kind: Kind, name: string | undefined): Headline {
  if (kind === "score") {
    const metric = (name ?? "pearson") as ScoreMetricName;
    if (!SCORE_METRICS.includes(metric)) throw new Error(`meta-eval: --headline for scores is one of ${SCORE_METRICS.join(", ")}; got "${name}"`);
    return { kind, metric };
  }
  const metric = (name ?? "accuracyWithTies") as PairwiseMetricName;
  if (!PAIRWISE_METRICS.includes(metric)) throw new Error(`meta-eval: --headline for pairwise is one of ${PAIRWISE_METRICS.join(", ")}; got "${name}"`);
  return { kind, metric };
}

function raterNamesOf(gold: string[], count: number): string[] {
  if (gold.length > 1) return gold;
  return Array.from({ length: count }, (_, i) => `${gold[0]}[${i}]`);
}

function defaultName(file: string, files: string[]): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const name = base.replace(/\.(jsonl|json|csv|parquet)(\.gz)?$/i, "");
  return files.filter((f) => (f.split(/[\\/]/).pop() ?? f).replace(/\.(jsonl|json|csv|parquet)(\.gz)?$/i, "") === name).length > 1 ? file : name;
}

/**
 * Several judges must describe the same records: lined up by the id field, else by row order, with
 * the same gold at every position (a different gold means the files are not of the same records).
 */
interface LoadedJudge {
  name: string;
  file: string;
  rows: JudgmentRow[];
  rejects: Reject[];
}

function align(judges: LoadedJudge[], id?: string): LoadedJudge[] {
  if (judges.length < 2) return judges;
  const [first, ...others] = judges as [(typeof judges)[number], ...typeof judges];
  let out = judges;
  if (id !== undefined) {
    const byId = (rows: JudgmentRow[], file: string) => {
      const map = new Map<string, JudgmentRow>();
      for (const r of rows) {
        if (r.id === undefined) throw new Error(`${file} line ${r.line}: no ${id} field to line judges up by`);
        if (map.has(r.id)) throw new Error(`${file} line ${r.line}: ${id} "${r.id}" appears twice`);
        map.set(r.id, r);
      }
      return map;
    };
    const maps = others.map((j) => byId(j.rows, j.file));
    byId(first.rows, first.file);
    out = [
      first,
      ...others.map((j, k) => ({
        ...j,
        rows: first.rows.map((r) => {
          const match = (maps[k] as Map<string, JudgmentRow>).get(r.id as string);
          if (!match) throw new Error(`${j.file}: no record with ${id} "${r.id}" (${first.file} line ${r.line})`);
          return match;
        }),
      })),
    ];
  } else {
    for (const j of others) {
      if (j.rows.length !== first.rows.length) {
        throw new Error(`${j.file} has ${j.rows.length} rows but ${first.file} has ${first.rows.length}: judges must grade the same records (or pass --id <field>)`);
      }
    }
  }
  for (const j of out.slice(1)) {
    j.rows.forEach((r, i) => {
      const f = first.rows[i] as JudgmentRow;
      if (r.gold !== null && f.gold !== null && r.gold !== f.gold) {
        throw new Error(`${j.file} line ${r.line}: gold ${String(r.gold)} differs from ${first.file} line ${f.line} (gold ${String(f.gold)}): are these judgments of the same records?`);
      }
    });
  }
  return out;
}

/** A few fields of a record, cut short, so a reader can see what the disagreement was about. */
function excerptOf(record: Record<string, unknown>, fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fields) {
    const v = getField(record, field);
    if (typeof v === "string" && v.trim() !== "") out[field] = v.length > 400 ? `${v.slice(0, 400)}…` : v;
  }
  return out;
}

function notesFor(kind: Kind, judges: JudgeReport[], raters: RaterReport | undefined, gold: string[], aggregate: "mean" | "majority"): string[] {
  const notes: string[] = [];
  if (raters) {
    notes.push(
      kind === "score" && aggregate === "mean"
        ? `Gold is the mean of ${raters.names.length} raters (${raters.names.join(", ")}).`
        : `Gold is the majority label of ${raters.names.length} raters (${raters.names.join(", ")}); rows where the top labels tie have no gold and are counted, not scored.`,
    );
  }
  if (kind === "score") {
    notes.push("Exact agreement, within-one, kappa, quadratic-weighted kappa and the confusion matrix compare scores rounded to the nearest whole number; correlations and MAE use the scores as given.");
  } else {
    notes.push(
      "Accuracy with ties: over all items, a tie is a third class that must match. Accuracy without ties: only items where neither the judge nor gold says tie (MT-Bench's w/o-tie setup). Accuracy on decisive gold: items where gold picks a winner, a judge tie counts as wrong.",
    );
  }
  for (const j of judges) {
    const c = j.coverage;
    const skipped = c.rows + c.unreadableRows - c.evaluated;
    if (skipped > 0) {
      const parts = [
        c.failedPrediction && `${c.failedPrediction} failed predictions`,
        c.missingPrediction && `${c.missingPrediction} missing predictions`,
        c.invalidPrediction && `${c.invalidPrediction} unreadable predictions`,
        c.missingGold && `${c.missingGold} without gold`,
        c.invalidGold && `${c.invalidGold} with unreadable gold`,
        c.noMajorityGold && `${c.noMajorityGold} without a majority gold`,
        c.unreadableRows && `${c.unreadableRows} unreadable rows`,
      ].filter(Boolean);
      notes.push(`${j.name}: ${skipped} of ${c.rows + c.unreadableRows} rows are not in the metrics (${parts.join(", ")}).`);
    }
    if (c.rows + c.unreadableRows === 0) notes.push(`${j.name}: the file has no rows.`);
    else if (c.evaluated === 0) notes.push(`${j.name}: no row has both a prediction and gold (${gold.join(", ")}): every metric is undefined.`);
  }
  return notes;
}
