import type { SwapOutcome } from "./bias.js";
import { toVerdict, type LabelMap, type Verdict } from "./pairwise.js";
import { majorityLabel, meanRating } from "./raters.js";

export type Kind = "score" | "pairwise";
export type Label = number | Verdict;

/** Why a row has no prediction: the judge failed (error field), left it empty, or wrote something unreadable. */
export type PredictionProblem = "failed" | "missing" | "invalid";
export type GoldProblem = "missing" | "invalid" | "no-majority";

/** The parts of one judgment row that meta-evaluation needs; the record itself is not kept. */
export interface JudgmentRow {
  index: number;
  line: number;
  pred: Label | null;
  predProblem?: PredictionProblem;
  /** The error message, or the unreadable value, behind predProblem. */
  predNote?: string;
  /** One rating per rater (null: that rater gave none). */
  ratings: Array<Label | null>;
  gold: Label | null;
  goldProblem?: GoldProblem;
  goldNote?: string;
  group?: string;
  id?: string;
  swaps?: SwapOutcome[];
  /** judge.cost_usd: what the judgment cost (critic judge --price). */
  costUsd?: number;
  /** score_expected of a judgment with a distribution. */
  expected?: number;
  /** The probability the judge's distribution gives its own verdict. */
  confidence?: number;
  length?: number;
  lengthA?: number;
  lengthB?: number;
}

export interface ExtractOptions {
  kind: Kind;
  pred: string;
  /** One field (a number or a list of ratings) or one field per rater. */
  gold: string[];
  goldAggregate: "mean" | "majority";
  by?: string;
  id?: string;
  labelMap?: LabelMap;
  /** Field renames applied first: new name -> old name. */
  map?: Record<string, string>;
  responseField: string;
  responseAField: string;
  responseBField: string;
}

/** A field by exact name, else by dotted path (judge.score). */
export function getField(record: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(record, path)) return record[path];
  let value: unknown = record;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** A number from a number or a numeric string (CSV cells are strings); null when it is not one. */
export function toScore(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function toLabel(kind: Kind, value: unknown, labelMap?: LabelMap): Label | null {
  return kind === "score" ? toScore(value) : toVerdict(value, labelMap);
}

function describe(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A JSON list given as a string (CSV cells): "[3, 2, 3]". */
function asList(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (typeof value === "string" && value.trim().startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      return null;
    }
  }
  return null;
}

export function extractRow(record: Record<string, unknown>, index: number, line: number, options: ExtractOptions): JudgmentRow {
  const rec = options.map ? renamed(record, options.map) : record;
  const row: JudgmentRow = { index, line, pred: null, ratings: [], gold: null };

  const rawPred = getField(rec, options.pred);
  const error = rec.error;
  if (isEmpty(rawPred)) {
    row.predProblem = typeof error === "string" && error !== "" ? "failed" : "missing";
    row.predNote = typeof error === "string" && error !== "" ? error : `no ${options.pred}`;
  } else {
    row.pred = toLabel(options.kind, rawPred, options.labelMap);
    if (row.pred === null) {
      row.predProblem = "invalid";
      row.predNote = `${options.pred} = ${describe(rawPred)} is not ${options.kind === "score" ? "a number" : "a verdict (A, B, tie)"}`;
    }
  }

  readGold(rec, row, options);

  if (options.by !== undefined) {
    const g = getField(rec, options.by);
    row.group = isEmpty(g) ? "(missing)" : typeof g === "object" ? JSON.stringify(g) : String(g);
  }
  if (options.id !== undefined) {
    const id = getField(rec, options.id);
    if (!isEmpty(id)) row.id = String(id);
  }
  readDistribution(rec, row, options.kind);
  const cost = toScore((rec.judge as { cost_usd?: unknown } | undefined)?.cost_usd);
  if (cost !== null) row.costUsd = cost;
  const swaps = swapOutcomes(rec.judge);
  if (swaps.length > 0) row.swaps = swaps;
  const response = getField(rec, options.responseField);
  if (typeof response === "string") row.length = response.length;
  const a = getField(rec, options.responseAField);
  const b = getField(rec, options.responseBField);
  if (typeof a === "string" && typeof b === "string") {
    row.lengthA = a.length;
    row.lengthB = b.length;
  }
  return row;
}

/** The judge's own probabilities, where the judgment has them (score_distribution / winner_distribution). */
function readDistribution(rec: Record<string, unknown>, row: JudgmentRow, kind: Kind): void {
  if (row.pred === null) return;
  const distribution = rec[kind === "score" ? "score_distribution" : "winner_distribution"];
  if (distribution === null || typeof distribution !== "object" || Array.isArray(distribution)) return;
  const p = (distribution as Record<string, unknown>)[String(row.pred)];
  const confidence = typeof p === "number" && p >= 0 && p <= 1 ? p : typeof p === "undefined" ? 0 : undefined;
  if (confidence === undefined) return;
  row.confidence = confidence;
  const expected = toScore(rec.score_expected);
  if (kind === "score" && expected !== null) row.expected = expected;
}

function readGold(rec: Record<string, unknown>, row: JudgmentRow, options: ExtractOptions): void {
  const { kind, labelMap } = options;
  const problems: string[] = [];
  const rate = (field: string, value: unknown): Label | null => {
    if (isEmpty(value)) return null;
    const list = asList(value);
    if (list) {
      // Several values in one rater's cell: average the scores, or take the majority verdict.
      const labels = list.map((v) => toLabel(kind, v, labelMap));
      if (labels.some((l) => l === null)) {
        problems.push(`${field} = ${describe(value)} holds a value that is not ${kind === "score" ? "a number" : "a verdict"}`);
        return null;
      }
      return kind === "score" ? meanRating(labels as number[]) : majorityLabel(labels);
    }
    const label = toLabel(kind, value, labelMap);
    if (label === null) problems.push(`${field} = ${describe(value)} is not ${kind === "score" ? "a number" : "a verdict (A, B, tie)"}`);
    return label;
  };

  if (options.gold.length === 1) {
    const field = options.gold[0] as string;
    const value = getField(rec, field);
    const list = asList(value);
    row.ratings = list ? list.map((v, i) => rate(`${field}[${i}]`, v)) : [rate(field, value)];
  } else {
    row.ratings = options.gold.map((field) => rate(field, getField(rec, field)));
  }

  if (problems.length > 0) {
    row.goldProblem = "invalid";
    row.goldNote = problems.join("; ");
    return;
  }
  const present = row.ratings.filter((r): r is Label => r !== null);
  if (present.length === 0) {
    row.goldProblem = "missing";
    row.goldNote = `no ${options.gold.join(", ")}`;
    return;
  }
  if (kind === "score" && options.goldAggregate === "mean") {
    row.gold = meanRating(present as number[]);
  } else {
    row.gold = majorityLabel(kind === "score" ? (present as number[]).map(Math.round) : present);
    if (row.gold === null) {
      row.goldProblem = "no-majority";
      row.goldNote = `raters split evenly: ${present.map(String).join(", ")}`;
    }
  }
}

function renamed(record: Record<string, unknown>, map: Record<string, string>): Record<string, unknown> {
  const out = { ...record };
  for (const [to, from] of Object.entries(map)) out[to] = record[from];
  return out;
}

/**
 * Swap outcomes from a judgment's `judge` object: `judge.swap` or `judge.samples[].swap`, written as
 * {original, swapped, consistent} (critic judge) or {first, second, consistent}.
 */
function swapOutcomes(judge: unknown): SwapOutcome[] {
  if (judge === null || typeof judge !== "object") return [];
  const j = judge as { swap?: unknown; samples?: unknown };
  const found = [j.swap, ...(Array.isArray(j.samples) ? j.samples.map((s) => (s as { swap?: unknown } | null)?.swap) : [])];
  const out: SwapOutcome[] = [];
  for (const s of found) {
    if (s === null || typeof s !== "object") continue;
    const o = s as Record<string, unknown>;
    const side = (v: unknown) => (v === "A" || v === "B" ? v : null);
    const original = side(o.original ?? o.first);
    const swapped = side(o.swapped ?? o.second);
    out.push({ original, swapped, consistent: typeof o.consistent === "boolean" ? o.consistent : original !== null && original === swapped });
  }
  return out;
}
