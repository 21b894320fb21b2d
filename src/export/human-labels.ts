/**
 * `critic export --labels`: the human labels made in `critic view` decide what a judgment teaches.
 * Only labelled judgments are exported. Where the humans agree with the judge, the judgment is kept
 * as it is (a verified example). Where they corrected it, the target is the human verdict with the
 * human note as its feedback, and the judge's own critique is kept as the dispreferred side of a
 * preference pair. A correction without a note has no text that argues for the human verdict (the
 * judge's feedback argues for another), so it gives no row: the view asks for a note.
 */
import { majorityLabel } from "../metaeval/raters.js";
import { hasVerdict, type HumanLabel } from "../records/labels.js";
import type { Example, Skip } from "./types.js";

type Judgment = Extract<Example, { kind: "judgment" }>;

/** What the humans made of one judgment. */
export type HumanOutcome = "agreed" | "corrected" | "corrected-without-note";

export function applyHumanLabels(example: Judgment, labels: readonly HumanLabel[]): { example: Judgment; outcome: HumanOutcome } | Skip {
  const verdicts = labels.filter(hasVerdict);
  if (verdicts.length === 0) return { skip: "unlabelled" };
  const notes = verdicts.map((l) => l.note?.trim()).filter((n): n is string => n !== undefined && n !== "");
  const feedback = notes.join("\n\n");
  if (example.mode === "absolute") {
    const scores = verdicts.map((l) => l.score).filter((s): s is number => s !== undefined);
    if (scores.length === 0) return { skip: "unlabelled", detail: "the labels are winners, the judgment a score" };
    const human = scores.reduce((a, b) => a + b, 0) / scores.length;
    if (human === example.score) return { example, outcome: "agreed" };
    // The human score is still a gold label for classify/regress; the critique formats skip it (formats.ts).
    if (feedback === "") return { example: { ...example, score: human, feedback: "", withoutNote: true, correction: { feedback: example.feedback, score: example.score } }, outcome: "corrected-without-note" };
    return { example: { ...example, score: human, feedback, correction: { feedback: example.feedback, score: example.score } }, outcome: "corrected" };
  }
  const winners = verdicts.map((l) => l.winner).filter((w): w is "A" | "B" | "tie" => w !== undefined);
  if (winners.length === 0) return { skip: "unlabelled", detail: "the labels are scores, the judgment a winner" };
  const human = majorityLabel(winners);
  if (human === null) return { skip: "no-human-majority", detail: `annotators split: ${winners.join(", ")}` };
  if (human === example.winner) return { example, outcome: "agreed" };
  if (feedback === "") return { skip: "correction-without-note" };
  // A five-level Arena-Hard label belongs to the judge's verdict, not the human's.
  const { verdict: _level, ...record } = example.record;
  return { example: { ...example, record, winner: human, feedback, correction: { feedback: example.feedback, winner: example.winner } }, outcome: "corrected" };
}
