import type { ChatMessage } from "../backends/types.js";
import type { Reject } from "../records/types.js";
import type { Rubric } from "../templates/types.js";

/** Output formats of `critic export`; each is written to its own folder when several are asked for. */
export const FORMAT_NAMES = [
  "sft-messages",
  "sft-prompt-completion",
  "alpaca",
  "criticon-sft",
  "prometheus-sft",
  "dpo",
  "dpo-conversational",
  "kto",
  "reward",
  "openai-sft",
  "openai-dpo",
  "classify",
  "regress",
] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** Which trainer reads a format (the `trainer` field of export.json). */
export type TrainerName = "sft" | "dpo" | "kto" | "reward" | "openai-sft" | "openai-dpo" | "classify" | "regress";

export const INPUT_KINDS = ["judgments", "pairs", "revisions"] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** The parts of a judgment's `judge` object that describe how it was made (for the dataset card). */
export interface JudgeMeta {
  backend?: string;
  model?: string;
  template?: string;
  /** Number of samples the verdict was aggregated from. */
  samples?: number;
  /** Pairwise judged in both orders. */
  swap?: boolean;
  /** The rubric `critic judge --rubric` graded every record with. */
  rubric?: Rubric;
  /** Sampling parameters of the judge. */
  params?: Record<string, unknown>;
}

/** One sample of a judgment: its critique and the verdict that critique argues for. */
export interface SampleCritique {
  feedback: string;
  /** Absolute: the sample's score; pairwise: the winner its critique argues for (the original order's, under --swap). */
  verdict: number | string;
}

/** One input record, normalised; `prompt` is the task prompt the train/test split groups on. */
export type Example =
  | {
      kind: "judgment";
      mode: "absolute";
      prompt: string;
      record: Record<string, unknown>;
      feedback: string;
      score: number;
      judge?: JudgeMeta;
      /** Each sample's critique and verdict (judge --samples k): the verdict is their mean. */
      samples?: SampleCritique[];
      /** --labels: the judge's own critique where a human corrected it. */
      correction?: { feedback: string; score: number };
      /**
       * --labels: a human corrected the score without a note. The score is a gold label for the
       * classify/regress formats; the critique formats have no target text and skip it.
       */
      withoutNote?: true;
    }
  | {
      kind: "judgment";
      mode: "pairwise";
      prompt: string;
      record: Record<string, unknown>;
      feedback: string;
      winner: "A" | "B" | "tie";
      judge?: JudgeMeta;
      /** Each sample's critique and verdict (judge --samples k): the verdict is their majority. */
      samples?: SampleCritique[];
      /** --labels: the judge's own critique where a human corrected it. */
      correction?: { feedback: string; winner: "A" | "B" | "tie" };
    }
  | {
      kind: "pair";
      source: "pairs" | "revisions";
      prompt: string;
      chosen: string;
      /** null: an accepted revision with nothing to reject (usable for SFT only). */
      rejected: string | null;
    };

/** Why a record gave no row in a format. Counted per format in export.json and the card. */
export const SKIP_REASONS = {
  "judge-error": "the judgment failed (it has an `error` field)",
  "no-verdict": "the judgment has no score or winner (null)",
  "not-accepted": "the revision was not accepted",
  tie: "the pairwise verdict is a tie: no preferred response",
  "no-pair": "no rejected response to pair with (an absolute judgment, or a revision without `rejected`)",
  "needs-judgment": "critique formats need judgments (feedback and a verdict); pairs and revisions have none",
  "mode-mismatch": "the template grades the other mode (absolute vs pairwise)",
  "non-integer-score": "the score is not a whole number (a mean over samples?); pass --round to round it",
  "no-sample-agrees": "the verdict is a mean or majority over samples and no sample's critique argues for it (e.g. samples 5, 1, 5 rounded to 4), so there is no target text",
  "score-out-of-scale": "the score is outside the template's scale",
  "scale-mismatch": "the judgment was made on another scale than the template's",
  "unknown-template": "the judgment's template is not built in; pass --template <name|file>",
  "missing-field": "the template cannot be filled from the record (see the rejects file)",
  "empty-text": "an empty prompt, response or feedback",
  "same-response": "chosen and rejected are the same text",
  duplicate: "an exact duplicate of an earlier row (--dedupe)",
  "invalid-row": "the row failed the target format's schema (see the rejects file)",
  unlabelled: "--labels: no human label of this record (only labelled judgments are exported)",
  "no-human-majority": "--labels: the annotators split evenly on the winner",
  "correction-without-note": "--labels: a human corrected the verdict without a note; the judge's feedback argues for its own verdict, so there is no target text",
  "judge-agreed": "--labels: the human agreed with the judge, so there is no judge-vs-human preference pair",
  "needs-score": "classify and regress need absolute judgments or gold records with a score",
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

export type Skip = { skip: SkipReason; detail?: string };

/** A supervised example: the prompt messages (optional system, then user) and the target text. */
export interface SftItem {
  prompt: ChatMessage[];
  completion: string;
  /** The judge template a critique was rendered with. */
  template?: string;
}

/** A preference example: one prompt, a preferred and a dispreferred response. */
export interface PreferenceItem {
  prompt: string;
  chosen: string;
  rejected: string;
}

export type Row = Record<string, unknown>;

/** One distinct judge setting among the judgments behind a format's rows. */
export interface JudgeSummaryRow {
  backend: string | null;
  model: string | null;
  template: string | null;
  samples: number | null;
  swap: boolean | null;
  /** Criteria of the rubric given with `critic judge --rubric`, when it was. */
  rubric: string | null;
  /** Sampling parameters, as compact JSON. */
  params: string | null;
  records: number;
}

export interface FormatCounts {
  /** Records read from the inputs (all formats see the same). */
  read: number;
  /** Records that could not be read or are not valid input (all formats). */
  rejected: number;
  /** Records (and for `duplicate`, rows) that gave no row in this format, by reason. */
  skipped: Partial<Record<SkipReason, number>>;
  train: number;
  test: number;
  /** Distinct prompts in each split. */
  trainPrompts: number;
  testPrompts: number;
}

export interface FormatResult {
  format: FormatName;
  dir: string;
  counts: FormatCounts;
  /** Judge templates the critique rows were rendered with, and how many rows each. */
  templates: Record<string, number>;
  judges: JudgeSummaryRow[];
  /** The first record this format could not use for a fault in the record (missing-field, invalid-row). */
  firstProblem?: Reject;
}
