/**
 * Juries (PoLL, "Replacing Judges with Juries"): several judges grade every record, each judgment
 * keeps every juror's verdict and distribution, and the verdict is their aggregate: the mean or the
 * median of the scores, or the majority verdict (a split vote is a tie). Jurors that fail on a record
 * are listed with their error and the others decide; when all fail, the judgment fails.
 */
import type { Backend } from "../backends/types.js";
import { fleissKappa, majorityLabel } from "../metaeval/raters.js";
import type { MetricValue } from "../metaeval/types.js";
import { expectedScore, meanDistribution } from "./distribution.js";
import { round4 } from "../util/round.js";
import type { JudgeStats } from "./engine.js";
import type { Grader, Judgment, JurorVerdict, JuryMethod, PairVerdict } from "./types.js";

export type { JuryMethod } from "./types.js";



export function defaultJuryMethod(mode: "absolute" | "pairwise"): JuryMethod {
  return mode === "absolute" ? "mean" : "majority";
}

export function checkJuryMethod(method: string, mode: "absolute" | "pairwise"): JuryMethod {
  if (method !== "mean" && method !== "median" && method !== "majority") throw new Error(`--jury must be mean, median or majority, got "${method}"`);
  if (mode === "pairwise" && method !== "majority") throw new Error(`--jury ${method} is for scores; pairwise verdicts are decided by majority`);
  return method;
}

/**
 * One record's judgment from its jurors' judgments. `grader` is the run's: a juror that rendered its
 * prompt with another template (a head, with the one it was trained on) is recorded with it.
 */
export function combineJury(grader: Pick<Grader, "mode" | "template">, method: JuryMethod, verdicts: Array<Judgment & { index: number }>): Judgment & { index: number } {
  const mode = grader.mode;
  const first = verdicts[0]!;
  const jurors: JurorVerdict[] = verdicts.map((j) => ({
    backend: j.judge.backend,
    model: j.judge.model,
    ...(j.judge.template !== grader.template ? { template: j.judge.template } : {}),
    ...(mode === "absolute" ? { score: j.score ?? null } : { winner: j.winner ?? null }),
    ...(j.verdict !== undefined ? { verdict: j.verdict } : {}),
    feedback: j.feedback,
    ...(j.error !== undefined ? { error: j.error } : {}),
    ...(j.score_distribution ? { score_distribution: j.score_distribution, score_expected: j.score_expected! } : {}),
    ...(j.winner_distribution ? { winner_distribution: j.winner_distribution } : {}),
    raw: j.judge.raw,
    ...(j.judge.head ? { head: j.judge.head } : {}),
    ...warningsOfSamples(j.judge.samples),
  }));
  const ok = verdicts.filter((j) => j.error === undefined);
  const { index: _index, judge: _judge, feedback: _f, score: _s, winner: _w, verdict: _v, error: _e, score_distribution: _sd, score_expected: _se, winner_distribution: _wd, verdict_distribution: _vd, swap_flip_rate: _fr, ...record } = first;
  const judge = {
    backend: "jury",
    model: verdicts.map((j) => j.judge.model).join(" + "),
    template: grader.template,
    raw: null,
    samples: [],
    tokens: { prompt: sum(verdicts.map((j) => j.judge.tokens.prompt)), completion: sum(verdicts.map((j) => j.judge.tokens.completion)) },
    latencyMs: Math.max(...verdicts.map((j) => j.judge.latencyMs)),
    ...(first.judge.rubric ? { rubric: first.judge.rubric } : {}),
    ...(first.judge.params ? { params: first.judge.params } : {}),
    cached: verdicts.every((j) => j.judge.cached),
    calls: sum(verdicts.map((j) => j.judge.calls)),
    jury: { method, jurors },
  };
  const base = { ...record, index: first.index };
  if (ok.length === 0) {
    return { ...base, feedback: null, ...(mode === "absolute" ? { score: null } : { winner: null }), error: `every juror failed: ${verdicts.map((j) => j.error).join("; ")}`, judge };
  }
  const feedback = ok[0]!.feedback;
  if (mode === "absolute") {
    const scores = ok.map((j) => j.score as number);
    const distributions = ok.every((j) => j.score_distribution) ? ok.map((j) => j.score_distribution!) : undefined;
    const mean = distributions ? meanDistribution(distributions) : undefined;
    return {
      ...base,
      feedback,
      score: round4(method === "median" ? median(scores) : method === "majority" ? majorityLabel(scores) ?? median(scores) : sum(scores) / scores.length),
      ...(mean ? { score_distribution: mean, score_expected: expectedScore(mean) } : {}),
      judge,
    };
  }
  const winners = ok.map((j) => j.winner as PairVerdict);
  const distributions = ok.every((j) => j.winner_distribution) ? ok.map((j) => j.winner_distribution!) : undefined;
  return { ...base, feedback, winner: majorityLabel(winners) ?? "tie", ...(distributions ? { winner_distribution: meanDistribution(distributions) } : {}), judge };
}

/** Agreement between jurors over a run: Fleiss' kappa on the records every juror judged (scores as categories). */
export class JuryAgreement {
  private readonly labels: Array<Array<string | number | null>> = [];

  add(judgment: Judgment): void {
    const jurors = (judgment.judge as { jury?: { jurors: JurorVerdict[] } }).jury?.jurors;
    if (!jurors) return;
    this.labels.push(jurors.map((j) => (j.error !== undefined ? null : j.score ?? j.winner ?? null)));
  }

  kappa(): MetricValue & { items: number; raters: number } {
    return fleissKappa(this.labels);
  }
}

/** Run counters of every juror, summed; judged and failed count the combined judgments. */
export function sumJurorStats(target: JudgeStats, jurors: JudgeStats[], judged: number, failed: number): void {
  const numeric = ["calls", "cachedCalls", "parseFailures", "parseRetries", "backendErrors", "promptTokens", "completionTokens", "swapPairs", "swapConsistent", "swapSkipped", "withoutDistribution", "paidPromptTokens", "paidCompletionTokens"] as const;
  for (const key of numeric) target[key] = sum(jurors.map((s) => s[key]));
  target.judged = judged;
  target.failed = failed;
  const note = jurors.find((s) => s.distributionNote !== undefined)?.distributionNote;
  if (note !== undefined) target.distributionNote = note;
}

/** A jury is several backends; all of them must be distinct judges. */
export function checkJurors(backends: Backend[]): void {
  const names = backends.map((b) => `${b.kind}:${b.model}`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`the jury names one judge twice (${twice}); give each --model once`);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A juror's warnings: the distinct ones across its samples (the jury's own judgment has no samples to keep them). */
function warningsOfSamples(samples: Judgment["judge"]["samples"]): { warnings?: string[] } {
  const warnings = [...new Set(samples.flatMap((s) => s.warnings ?? []))];
  return warnings.length > 0 ? { warnings } : {};
}
