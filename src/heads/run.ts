/** What judge() needs to run a head instead of a generative backend: the head, its grader, and the judge identity the run records. */
import type { Backend } from "../backends/types.js";
import { BackendError } from "../backends/types.js";
import { resolveGrader, type GraderOptions } from "../judge/grader.js";
import type { Grader } from "../judge/types.js";
import { headPairwiseGrader, SAMPLES_REFUSED, SWAP_REFUSED } from "./judger.js";
import { isHeadSpec, openHead, type OpenHeadOptions } from "./open.js";
import type { HeadModel } from "./spec.js";
import { trainedPromptForm } from "./prompt-form.js";

/** The head spec among --model values: only a single model can be a head (no juries of heads yet). */
export function headSpecOf(model: unknown): string | undefined {
  const specs = Array.isArray(model) ? model : [model];
  const heads = specs.filter(isHeadSpec);
  if (heads.length === 0) return undefined;
  if (specs.length > 1) throw new Error(`a classifier/regression head (${heads[0]}) judges alone: give one --model`);
  return heads[0];
}

export interface HeadRun {
  head: HeadModel;
  grader: Grader;
  /** Stands for the head where the run records its judge (kind, model, settings); never generates. */
  identity: Backend;
}

export async function openHeadRun(spec: string, options: GraderOptions & OpenHeadOptions & { batchFile?: string; batchResults?: string; batch?: unknown; swap?: boolean | "auto"; samples?: number }): Promise<HeadRun> {
  if (options.batchFile || options.batchResults || options.batch) throw new Error("--batch, --batch-file and --batch-results send chat completions; a classifier/regression head has none");
  // Refused before the model loads (HeadJudger refuses them too, for judgeStream's own callers).
  if (options.swap) throw new Error(SWAP_REFUSED);
  if ((options.samples ?? 1) !== 1) throw new Error(SAMPLES_REFUSED);
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
    return { head, grader, identity: headIdentity(head) };
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
