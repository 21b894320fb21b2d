/** What judge() needs to run a head instead of a generative backend: the head, its grader, and the judge identity the run records. */
import type { Backend } from "../backends/types.js";
import { BackendError } from "../backends/types.js";
import { resolveGrader, type GraderOptions } from "../judge/grader.js";
import type { Grader } from "../judge/types.js";
import { headPairwiseGrader, isHeadJuror, SAMPLES_REFUSED, SWAP_REFUSED, type HeadJuror } from "./judger.js";
import { isHeadSpec, openHead, parseHeadOutput, type OpenHeadOptions } from "./open.js";
import { isJudgePackage } from "./package.js";
import type { HeadModel, HeadOutput } from "./spec.js";
import { trainedPromptForm } from "./prompt-form.js";

/** The --model values that name heads (judge packages, vllm-classify:, vllm-pooling:, tei:). */
export function headSpecsOf(model: unknown): string[] {
  return (Array.isArray(model) ? model : [model]).filter(isHeadSpec);
}

/** What a run with a head cannot do: refused before any model loads (HeadJudger refuses swap and samples too, for judgeStream's own callers). */
export function refuseHeadOptions(options: { batchFile?: string; batchResults?: string; batch?: unknown; swap?: boolean | "auto"; samples?: number }): void {
  if (options.batchFile || options.batchResults || options.batch) throw new Error("--batch, --batch-file and --batch-results send chat completions; a classifier/regression head has none");
  if (options.swap) throw new Error(SWAP_REFUSED);
  if ((options.samples ?? 1) !== 1) throw new Error(SAMPLES_REFUSED);
}

export { isHeadJuror, type HeadJuror };

export interface HeadRun {
  head: HeadModel;
  grader: Grader;
  /** Stands for the head where the run records its judge (kind, model, settings), carrying the head and its grader to the engine. */
  identity: HeadJuror;
}

/**
 * Opens a head and its grader. `options.template` is the head's template (default: the one it was
 * trained with); a jury with generative jurors gives none, so each head keeps its own and only the
 * run's mode.
 */
export async function openHeadRun(spec: string, options: GraderOptions & OpenHeadOptions & { batchFile?: string; batchResults?: string; batch?: unknown; swap?: boolean | "auto"; samples?: number }): Promise<HeadRun> {
  refuseHeadOptions(options);
  const head = await openHead(spec, options);
  try {
    // A pairwise template (a pairwise benchmark's, say) means pairwise grading: each side is scored
    // with the head's own absolute template, as PHUDGE grades relative sets.
    let template = options.template ?? head.template ?? "prometheus-absolute";
    let mode = options.mode;
    if (options.template !== undefined && resolveGrader({ template: options.template }).mode === "pairwise") {
      if (mode === "absolute") throw new Error(`template "${options.template}" grades pairwise, but --mode absolute was given`);
      mode = "pairwise";
      template = head.template ?? "prometheus-absolute";
    }
    const absolute = withTrainedPromptForm(resolveGrader({ template, mode: "absolute", ...(options.rubric !== undefined ? { rubric: options.rubric } : {}), ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}) }), head);
    const grader = mode === "pairwise" ? headPairwiseGrader(absolute) : absolute;
    return { head, grader, identity: Object.assign(headIdentity(head), { head, headGrader: grader }) };
  } catch (error) {
    await head.dispose();
    throw error;
  }
}

/** A package judges with the prompts it was trained on (prompt-form.ts), unless another template was chosen. */
export function withTrainedPromptForm(grader: Grader, head: HeadModel): Grader {
  const form = grader.template === head.template ? trainedPromptForm(head.templateOptions) : undefined;
  return form ? { ...grader, buildMessages: (record) => form(grader.buildMessages(record)) } : grader;
}

/** Stands for the head where a run records its judge (kind, model, settings); never generates. */
export function headIdentity(head: HeadModel): Backend {
  return {
    kind: head.kind,
    model: head.model,
    concurrency: head.concurrency,
    ...(head.settings ? { settings: head.settings } : {}),
    get retries() {
      return (head as { retries?: number }).retries ?? 0;
    },
    generate: () => Promise.reject(new BackendError("a classifier/regression head does not generate text", false)),
    dispose: () => head.dispose(),
  } as Backend;
}

/** A jury's judge as the scale check sees it: what the user named, and a head's outputs (none: a generative judge). */
export interface JurorScale {
  name: string;
  head?: HeadOutput;
}

/** What a head spec's outputs are, read without opening it: a package's judge.json, or --head for a server head. */
export function headOutputOf(spec: string, headOutput: string | undefined): HeadOutput {
  return parseHeadOutput(isJudgePackage(spec) ? spec : headOutput);
}

/**
 * Absolute juries score on one scale: every head's must be the generative jurors' template's (a 1-5
 * classifier beside a 1-10 MT-Bench judge would average incomparable numbers). Checked before any
 * model is opened.
 */
export function checkJurorScales(jurors: JurorScale[], mode: "absolute" | "pairwise", generative: Pick<Grader, "template" | "scale"> | undefined): void {
  if (mode !== "absolute" || !jurors.some((j) => j.head)) return;
  const text = (s: { min: number; max: number }) => `${s.min}-${s.max}`;
  const scales = jurors.map((j) => {
    if (j.head) return { name: j.name, scale: text(j.head.scale), how: `(${j.head.kind} head)` };
    if (!generative?.scale) throw new Error(`a jury with a classifier/regression head needs the generative jurors' template to state its scale; template "${generative?.template}" states none`);
    return { name: j.name, scale: text(generative.scale), how: `(template ${generative.template})` };
  });
  if (new Set(scales.map((s) => s.scale)).size > 1) {
    throw new Error(`the jurors grade on different scales: ${scales.map((s) => `${s.name} ${s.scale} ${s.how}`).join(", ")}; a jury averages or counts scores on one scale (give a template on the heads' scale, or jurors that share one)`);
  }
}
