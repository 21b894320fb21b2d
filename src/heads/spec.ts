/**
 * The heads room: judges that score a prompt in one forward pass through a classification or
 * regression head (PHUDGE's classif and reg models, github.com/deshwalmahesh/PHUDGE at e41a499),
 * instead of generating a critique. One interface, implementations apart: embedded (node-llama-cpp
 * backbone + head in TypeScript), vLLM's pooling API (/classify, /pooling), text-embeddings-inference
 * (/predict).
 */
import type { ChatMessage } from "../backends/types.js";
import { round4, round6 } from "../util/round.js";

/** What a head's outputs mean: a score per row (classify) or one value clipped to a scale (regress). */
export interface HeadOutput {
  kind: "classify" | "regress";
  /** classify: the score of each output row. */
  labels?: number[];
  scale: { min: number; max: number };
}

export interface HeadScore {
  /** The head's raw outputs (logits for classify, the value for regress), one per row. */
  logits: number[];
  promptTokens: number;
}

export interface HeadModel {
  /** "embedded-head" | "vllm-classify" | "vllm-pooling" | "tei": part of the cache key. */
  readonly kind: string;
  /** The model's identity (package fingerprint, or server model name): part of the cache key. */
  readonly model: string;
  readonly output: HeadOutput;
  /** Prompts scored at once. */
  readonly concurrency: number;
  /** What was chosen at start (threads, context), one line; printed by the CLI. */
  readonly settings?: string;
  /** Template the head was trained with (packages), used when no --template is given. */
  readonly template?: string;
  /** The package's judge.json template_options: how its training prompts were formed (see prompt-form.ts). */
  readonly templateOptions?: Record<string, unknown>;
  score(prompts: ChatMessage[][], signal?: AbortSignal): Promise<HeadScore[]>;
  dispose(): Promise<void>;
}

export interface HeadVerdict {
  score: number;
  score_distribution?: Record<string, number>;
  score_expected: number;
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from(logits, (l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** classify: the argmax row's label, the softmax over labels and its mean; regress: the value clipped to the scale. */
export function headVerdict(logits: number[], output: HeadOutput): HeadVerdict {
  if (logits.some((l) => !Number.isFinite(l))) throw new Error(`the head gave a non-finite output: [${logits.join(", ")}]`);
  if (output.kind === "regress") {
    if (logits.length !== 1) throw new Error(`a regress head gives one value, got ${logits.length}`);
    const value = Math.min(output.scale.max, Math.max(output.scale.min, logits[0]!));
    return { score: round4(value), score_expected: round4(value) };
  }
  const labels = output.labels!;
  if (logits.length !== labels.length) throw new Error(`the head gave ${logits.length} outputs for ${labels.length} labels`);
  const p = softmax(logits);
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  const distribution: Record<string, number> = {};
  labels.forEach((label, i) => (distribution[String(label)] = round6(p[i]!)));
  return { score: labels[best]!, score_distribution: distribution, score_expected: round4(labels.reduce((s, label, i) => s + label * p[i]!, 0)) };
}

/** Python's round(x, 0): halves go to the even integer (round(2.5) == 2). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * PHUDGE's relative rule (evaluation/EVAL.ipynb, calculate_acc / panda_acc at e41a499): each side is
 * scored alone; equal after Python's round(s, 0) is a tie, otherwise the higher score wins.
 */
export function pairVerdict(a: number, b: number): "A" | "B" | "tie" {
  if (roundHalfEven(a) === roundHalfEven(b)) return "tie";
  return a > b ? "A" : "B";
}

/** With both sides' label distributions (classify): P(A wins), P(B wins), P(tie) under the same rule, the sides independent. */
export function pairDistribution(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { A: 0, B: 0, tie: 0 };
  for (const [la, pa] of Object.entries(a)) for (const [lb, pb] of Object.entries(b)) out[pairVerdict(Number(la), Number(lb))] += pa * pb;
  return { A: round6(out.A), B: round6(out.B), tie: round6(out.tie) };
}

/** What a judgment from a head says in place of feedback. */
export const HEAD_NO_FEEDBACK = "a classifier/regression head judge gives a score, no feedback text";
