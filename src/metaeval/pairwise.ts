import { cohenKappa, type ConfusionMatrix } from "./agreement.js";
import { defined, undefinedBecause, type MetricValue } from "./types.js";

export type Verdict = "A" | "B" | "tie";
export const VERDICTS: Verdict[] = ["A", "B", "tie"];

/** Raw value (as written in a file) -> verdict, e.g. {"0": "A", "1": "B", "2": "tie"} for Auto-J labels. */
export type LabelMap = Record<string, Verdict>;

/** Parses "A=0,B=1,tie=2" (verdict=raw value, repeatable per verdict: "A=0,A=a"). */
export function parseLabelMap(spec: string): LabelMap {
  const map: LabelMap = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const verdict = normalizeVerdictName(eq < 0 ? "" : part.slice(0, eq));
    if (eq < 0 || !verdict) throw new Error(`label map "${spec}": expected entries like A=0,B=1,tie=2, got "${part}"`);
    map[part.slice(eq + 1).trim()] = verdict;
  }
  return map;
}

function normalizeVerdictName(name: string): Verdict | null {
  const s = name.trim().toLowerCase();
  if (s === "a") return "A";
  if (s === "b") return "B";
  if (s === "tie") return "tie";
  return null;
}

/**
 * Reads a verdict: the label map first (its raw values as strings), then the usual spellings
 * A/B/tie (any case) and 1/2/0. Returns null for anything else, so the caller can count it.
 */
export function toVerdict(value: unknown, labelMap?: LabelMap): Verdict | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") return null;
  const raw = String(value).trim();
  if (labelMap && Object.hasOwn(labelMap, raw)) return labelMap[raw] as Verdict;
  const named = normalizeVerdictName(raw);
  if (named) return named;
  if (raw === "1") return "A";
  if (raw === "2") return "B";
  if (raw === "0") return "tie";
  return null;
}

export interface ClassReport {
  label: Verdict;
  /** Gold items of this class. */
  support: number;
  precision: MetricValue;
  recall: MetricValue;
  f1: MetricValue;
}

export interface PairwiseAgreement {
  /** All items; a tie is a third class that must match. */
  accuracyWithTies: MetricValue;
  /** Only items where neither judge nor gold says tie (MT-Bench's "w/o tie" setup). */
  accuracyWithoutTies: MetricValue;
  /** Items with a decisive gold label; a judge tie there counts as wrong. */
  accuracyDecisiveGold: MetricValue;
  /** Items counted by each accuracy. */
  counts: { all: number; withoutTies: number; decisiveGold: number };
  perClass: ClassReport[];
  macroPrecision: MetricValue;
  macroRecall: MetricValue;
  macroF1: MetricValue;
  kappa: MetricValue;
  /** Rows gold, columns judge, over A, B, tie. */
  confusion: ConfusionMatrix<Verdict>;
}

/** All pairwise agreement metrics from the 3x3 (gold rows, judge columns) matrix over A, B, tie. */
export function pairwiseAgreement(matrix: ConfusionMatrix<Verdict>): PairwiseAgreement {
  const at = (gold: Verdict, pred: Verdict) => (matrix.counts[matrix.labels.indexOf(gold)] as number[])[matrix.labels.indexOf(pred)] ?? 0;
  let all = 0, correct = 0, decisive = 0, decisiveCorrect = 0, decisiveGold = 0;
  for (const g of VERDICTS) {
    for (const p of VERDICTS) {
      const c = at(g, p);
      all += c;
      if (g === p) correct += c;
      if (g !== "tie") {
        decisiveGold += c;
        if (g === p) decisiveCorrect += c;
        if (p !== "tie") decisive += c;
      }
    }
  }
  const share = (hits: number, of: number, what: string) => (of === 0 ? undefinedBecause(`no ${what}`) : defined(hits / of));

  const perClass: ClassReport[] = [];
  const present = VERDICTS.filter((v) => VERDICTS.some((o) => at(v, o) + at(o, v) > 0));
  for (const label of present) {
    const tp = at(label, label);
    const predicted = VERDICTS.reduce((s, g) => s + at(g, label), 0);
    const support = VERDICTS.reduce((s, p) => s + at(label, p), 0);
    const precision = predicted === 0 ? undefinedBecause(`the judge never says ${label}`) : defined(tp / predicted);
    const recall = support === 0 ? undefinedBecause(`gold never says ${label}`) : defined(tp / support);
    const f1 =
      precision.value === null || recall.value === null
        ? undefinedBecause(precision.reason ?? recall.reason ?? "")
        : precision.value + recall.value === 0
          ? defined(0)
          : defined((2 * precision.value * recall.value) / (precision.value + recall.value));
    perClass.push({ label, support, precision, recall, f1 });
  }
  return {
    accuracyWithTies: share(correct, all, "items"),
    accuracyWithoutTies: share(decisiveCorrect, decisive, "items where both judge and gold pick a winner"),
    accuracyDecisiveGold: share(decisiveCorrect, decisiveGold, "items with a decisive gold label"),
    counts: { all, withoutTies: decisive, decisiveGold },
    perClass,
    macroPrecision: macro(perClass, "precision"),
    macroRecall: macro(perClass, "recall"),
    macroF1: macro(perClass, "f1"),
    kappa: cohenKappa(matrix),
    confusion: matrix,
  };
}

/** Macro average over the classes seen in gold or judge; an undefined class score counts as 0 (as scikit-learn). */
function macro(classes: ClassReport[], key: "precision" | "recall" | "f1"): MetricValue {
  if (classes.length === 0) return undefinedBecause("no items");
  const sum = classes.reduce((s, c) => s + (c[key].value ?? 0), 0);
  return defined(sum / classes.length);
}

export function verdictMatrix(pred: ArrayLike<Verdict>, gold: ArrayLike<Verdict>, weights?: ArrayLike<number>): ConfusionMatrix<Verdict> {
  const counts = VERDICTS.map(() => VERDICTS.map(() => 0));
  const index = { A: 0, B: 1, tie: 2 } as const;
  for (let i = 0; i < pred.length; i++) {
    const row = counts[index[gold[i] as Verdict]] as number[];
    const col = index[pred[i] as Verdict];
    row[col] = (row[col] as number) + (weights ? (weights[i] as number) : 1);
  }
  return { labels: [...VERDICTS], counts };
}
