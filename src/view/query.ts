/**
 * Filters and orders of the view's table, over the index only (no record is read): the answer is
 * the list of matching rows in display order, which the API then pages through.
 */
import { Random } from "../metaeval/bootstrap.js";
import { hasVerdict, type LabelStore } from "../records/labels.js";
import { searchRows, WINNERS, type JudgmentIndex } from "./judgment-index.js";

export const ORDERS = ["row", "score", "-score", "uncertainty", "disagree-judges", "disagree-labels", "random"] as const;
export type Order = (typeof ORDERS)[number];

export interface RowQuery {
  /** "4", or a range "1-3". */
  score?: string;
  winner?: "A" | "B" | "tie";
  failed?: boolean;
  /** Rows this annotator has (true) or has not (false) labelled. */
  labelled?: boolean;
  field?: string;
  value?: string;
  /** Free text, matched in the raw record. */
  q?: string;
  order?: Order;
  seed?: number;
}

/** The open files lined up on the first: for each other file, the row holding the same record (-1: none). */
export interface Workspace {
  indexes: JudgmentIndex[];
  /** alignment[j][row of file 0] = row of file j. */
  alignment: Int32Array[];
  labels: LabelStore;
  annotator: string;
}

/** Lines other files up with the first by `id` when the first has ids, else by row. */
export function alignFiles(indexes: JudgmentIndex[]): Int32Array[] {
  const first = indexes[0] as JudgmentIndex;
  return indexes.map((index, j) => {
    const map = new Int32Array(first.rows).fill(-1);
    for (let row = 0; row < first.rows; row++) {
      if (j === 0) map[row] = row;
      else if (first.hasIds) map[row] = index.rowOfId.get(first.ids[row] as string) ?? -1;
      else if (row < index.rows) map[row] = row;
    }
    return map;
  });
}

/** How far the judges' verdicts on a row of file 0 are apart: score range, or 1 when the winners differ. NaN: fewer than two verdicts. */
export function judgeSpread(ws: Workspace, row: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  const winners = new Set<number>();
  for (const [j, index] of ws.indexes.entries()) {
    const r = (ws.alignment[j] as Int32Array)[row] as number;
    if (r < 0) continue;
    if (index.mode === "pairwise") {
      const w = index.winners[r] as number;
      if (w) winners.add(w);
      continue;
    }
    const s = index.scores[r] as number;
    if (Number.isNaN(s)) continue;
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  if ((ws.indexes[0] as JudgmentIndex).mode === "pairwise") return winners.size === 0 ? NaN : winners.size - 1;
  return hi >= lo ? hi - lo : NaN;
}

/** The least sure of the judges on a row of file 0: the largest 1 - p(own verdict) of any open file. NaN: no distribution. */
export function judgeUncertainty(ws: Workspace, row: number): number {
  let most = NaN;
  for (const [j, index] of ws.indexes.entries()) {
    const r = (ws.alignment[j] as Int32Array)[row] as number;
    const u = r < 0 ? NaN : (index.uncertainty[r] as number);
    if (!Number.isNaN(u) && !(u <= most)) most = u;
  }
  return most;
}

/** How far the judge (file 0) is from the humans on a row: |score - mean human score|, or 1 when the majority winner differs. NaN: no labels. */
export function labelGap(ws: Workspace, row: number): number {
  const index = ws.indexes[0] as JudgmentIndex;
  const labels = ws.labels.labelsOf(index.ids[row] as string).filter(hasVerdict);
  if (labels.length === 0) return NaN;
  if (index.mode === "pairwise") {
    const w = WINNERS[index.winners[row] as number];
    const votes = new Map<string, number>();
    for (const l of labels) if (l.winner) votes.set(l.winner, (votes.get(l.winner) ?? 0) + 1);
    const top = Math.max(...votes.values());
    const majority = [...votes].filter(([, n]) => n === top).map(([v]) => v);
    return majority.length === 1 && majority[0] === w ? 0 : 1;
  }
  const human = labels.reduce((sum, l) => sum + (l.score ?? 0), 0) / labels.length;
  const s = index.scores[row] as number;
  return Number.isNaN(s) ? 1e9 : Math.abs(s - human);
}

/** The rows of file 0 that match, in the asked order. */
export async function queryRows(ws: Workspace, query: RowQuery): Promise<Int32Array> {
  const index = ws.indexes[0] as JudgmentIndex;
  const text = query.q?.trim() ? await searchRows(index, query.q.trim()) : undefined;
  const scoreRange = parseScoreRange(query.score);
  const winner = query.winner ? WINNERS.indexOf(query.winner) : 0;
  const category = query.field ? index.categories.find((c) => c.name === query.field) : undefined;
  if (query.field && !category) throw new Error(`no filterable field "${query.field}" (fields with a few distinct values: ${index.categories.map((c) => c.name).join(", ") || "none"})`);
  const code = category && query.value !== undefined ? category.values.indexOf(query.value) + 1 : 0;
  const mine = ws.labels.byAnnotator.get(ws.annotator);

  const out: number[] = [];
  for (let row = 0; row < index.rows; row++) {
    if (text && !text[row]) continue;
    if (scoreRange) {
      const s = index.scores[row] as number;
      if (!(s >= scoreRange[0] && s <= scoreRange[1])) continue;
    }
    if (winner && index.winners[row] !== winner) continue;
    if (query.failed !== undefined && (index.failed[row] === 1) !== query.failed) continue;
    if (category && category.codes[row] !== code) continue;
    if (query.labelled !== undefined && hasVerdict(mine?.get(index.ids[row] as string)) !== query.labelled) continue;
    out.push(row);
  }
  return new Int32Array(order(ws, out, query.order ?? "row", query.seed ?? 1));
}

function order(ws: Workspace, rows: number[], how: Order, seed: number): number[] {
  const index = ws.indexes[0] as JudgmentIndex;
  // Rows without the value sort last, in row order.
  const by = (value: (row: number) => number, descending: boolean) => {
    const keyed = rows.map((row) => ({ row, key: value(row) }));
    keyed.sort((a, b) => {
      const an = Number.isNaN(a.key);
      const bn = Number.isNaN(b.key);
      if (an || bn) return an === bn ? a.row - b.row : an ? 1 : -1;
      return (descending ? b.key - a.key : a.key - b.key) || a.row - b.row;
    });
    return keyed.map((k) => k.row);
  };
  switch (how) {
    case "row":
      return rows;
    case "score":
      return by((r) => index.scores[r] as number, false);
    case "-score":
      return by((r) => index.scores[r] as number, true);
    case "uncertainty":
      return by((r) => judgeUncertainty(ws, r), true);
    case "disagree-judges":
      return by((r) => judgeSpread(ws, r), true);
    case "disagree-labels":
      return by((r) => labelGap(ws, r), true);
    case "random": {
      const random = new Random(seed);
      const shuffled = rows.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = random.nextUint32() % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
      }
      return shuffled;
    }
  }
}

function parseScoreRange(text: string | undefined): [number, number] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-\s*(-?\d+(?:\.\d+)?))?\s*$/.exec(text);
  if (!m) throw new Error(`score filter: expected a score like 4 or a range like 1-3, got "${text}"`);
  const lo = Number(m[1]);
  return [lo, m[2] !== undefined ? Number(m[2]) : lo];
}
