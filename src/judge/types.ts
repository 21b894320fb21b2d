import type { Rubric, Scale } from "../templates/types.js";
import type { ChatMessage, GenerateRequest, SamplingParams, VerdictRequest } from "../backends/types.js";

export type Mode = "absolute" | "pairwise";
export type Winner = "A" | "B";
/** A pairwise verdict: a winner, or a tie (from formats that have one, from --swap, or from a split vote). */
export type PairVerdict = Winner | "tie";

export type ParsedOutput =
  | { ok: true; feedback: string; score: number }
  /** `verdict`: the format's own label where it says more than the winner (Arena-Hard "A>>B"). */
  | { ok: true; feedback: string; winner: PairVerdict; verdict?: string }
  | { ok: false; error: string };

/**
 * Everything the engine needs to know about a template: how to turn a record into messages,
 * how to constrain the output, and how to read the verdict back.
 */
export interface Grader {
  mode: Mode;
  /** Template name recorded in every judgment. */
  template: string;
  /** The template's score range (absolute templates that state one). */
  scale?: Scale;
  /** Throws an Error naming the missing field when the record cannot fill the template. */
  buildMessages(record: Record<string, unknown>): ChatMessage[];
  constraint?: GenerateRequest["constraint"];
  /** The rubric given for every record (`--rubric`), recorded in each judgment; absent when records carry their own. */
  rubric?: Rubric;
  /** `messages`: the prompt the output answers, so a verdict quoted from the judged text is known as one. */
  parse(text: string, messages?: ChatMessage[]): ParsedOutput;
  /** The verdicts the output can end with, for backends that read their probabilities. */
  verdict?: VerdictRequest;
  /** A verdict candidate as a label: the score ("4"), or the winner ("A", "B", "tie" for MT-Bench's "C"). */
  labelOf?(candidate: string): string;
}

/** One call's failed attempt: the raw text is kept, never replaced by a default score. */
export interface FailedAttempt {
  raw: string;
  error: string;
}

export interface SampleResult {
  feedback?: string;
  score?: number;
  winner?: PairVerdict;
  /** Arena-Hard's five-level label ("A>>B" … "B>>A"), in the record's own A/B order. */
  verdict?: string;
  /** Probability of each score (absolute) or winner (pairwise) at the verdict position. */
  distribution?: Record<string, number>;
  /** Arena-Hard: probability of each of the five levels. */
  verdictDistribution?: Record<string, number>;
  raw?: string;
  error?: string;
  /** Failed attempts before the one that parsed (or all of them when none did). */
  failures?: FailedAttempt[];
  /** What the backend warned about these calls (an AI SDK provider's unsupported settings), each once. */
  warnings?: string[];
  /** Pairwise with swap: the verdict of each order, mapped back to the original labels. */
  /** --swap auto: the swapped order was not graded, the judge being this sure of its verdict. */
  swapSkipped?: { confidence: number };
  swap?: { original: PairVerdict | null; swapped: PairVerdict | null; consistent: boolean; swappedFeedback?: string; swappedRaw?: string; swappedVerdict?: string };
}

export interface JudgeInfo {
  backend: string;
  model: string;
  template: string;
  raw: string | null;
  samples: SampleResult[];
  spread?: { min: number; max: number; std: number } | { agreement: number };
  tokens: { prompt: number; completion: number };
  latencyMs: number;
  /** Rubric and sampling parameters the verdict was reached with, so a judgment can be replayed or exported. */
  rubric?: Rubric;
  params?: SamplingParams;
  cached: boolean;
  calls: number;
  /** With `--price`: what producing this judgment cost, in dollars (its calls' tokens, cached or not). */
  cost_usd?: number;
  /** A jury's judgment: how the verdict was reached and every juror's own. */
  jury?: { method: JuryMethod; jurors: JurorVerdict[] };
  /** A classifier/regression head's judgment: its raw outputs and a note that it writes no feedback (heads/judger.ts). */
  head?: Record<string, unknown>;
}

export type JuryMethod = "mean" | "median" | "majority";

/** One juror's verdict on a record, kept in the jury's judgment. */
export interface JurorVerdict {
  backend: string;
  model: string;
  /** The juror's template where it is not the jury's (a head renders its prompts with the one it was trained on). */
  template?: string;
  score?: number | null;
  winner?: PairVerdict | null;
  verdict?: string;
  feedback: string | null;
  error?: string;
  score_distribution?: Record<string, number>;
  score_expected?: number;
  winner_distribution?: Record<string, number>;
  raw: string | null;
  /** A head juror's raw outputs and note (JudgeInfo.head). */
  head?: Record<string, unknown>;
  /** What the juror's backend warned about its calls for this record (its samples' warnings), each once. */
  warnings?: string[];
}


/** A judgment: the record's own fields plus the verdict and how it was reached. */
export type Judgment = Record<string, unknown> & {
  feedback: string | null;
  score?: number | null;
  winner?: PairVerdict | null;
  /** Arena-Hard's five-level label of the verdict, where the format has one. */
  verdict?: string;
  /** Absolute: probability of each score on the scale (keys are the scores), from token probabilities. */
  score_distribution?: Record<string, number>;
  /** The distribution's mean (G-Eval's probability-weighted score). */
  score_expected?: number;
  /** Pairwise: probability of A, B (and tie where the format has one). */
  winner_distribution?: Record<string, number>;
  /** Arena-Hard: probability of each level, A>>B … B>>A. */
  verdict_distribution?: Record<string, number>;
  /** --swap: share of the record's samples whose verdict changed when the order did. */
  swap_flip_rate?: number;
  error?: string;
  judge: JudgeInfo;
};
