/**
 * Judging records with a head (HeadModel): one forward pass per prompt, no generated text. The same
 * engine contract as generative judging (judgeStream's Judger): judgments in input order, every call
 * cached in the run store (a re-run or resume never pays twice), a failed item recorded with its error.
 * Absolute: the record's prompt is scored. Pairwise: each response is scored alone with the absolute
 * template and the two scores compared by PHUDGE's rule (spec.ts pairVerdict); --swap is refused (the
 * order of the sides cannot matter to a judge that never sees both at once).
 */
import type { Backend, ChatMessage } from "../backends/types.js";
import { BackendUnavailableError, type EngineInput, type JudgeStats } from "../judge/engine.js";
import { Semaphore } from "../judge/semaphore.js";
import type { Grader, Judgment } from "../judge/types.js";
import { callKey, type CachedCall, type RunStore } from "../store/run-store.js";
import { HEAD_NO_FEEDBACK, headVerdict, pairDistribution, pairVerdict, type HeadModel, type HeadVerdict } from "./spec.js";

export interface HeadJudgerOptions {
  head: HeadModel;
  /** Absolute: the template's grader; pairwise: headPairwiseGrader's (its messages are side A's). */
  grader: Grader;
  store?: RunStore;
  stats: JudgeStats;
  samples?: number;
  swap?: boolean | "auto";
  concurrency?: number;
}

/** A head where a run keeps its judges (a jury's juror, or the one judge): judgeStream judges with its head and grader. */
export interface HeadJuror extends Backend {
  readonly head: HeadModel;
  readonly headGrader: Grader;
}

export function isHeadJuror(backend: Backend): backend is HeadJuror {
  return "headGrader" in backend && (backend as Partial<HeadJuror>).head !== undefined;
}

/** A head call as the run store keeps it: the head's raw outputs. */
type HeadCall = CachedCall & { logits: number[] };

const UNAVAILABLE_AFTER = 8;
export const SWAP_REFUSED = "--swap is meaningless with a classifier/regression head: each response is scored alone, so the order of the pair cannot change the verdict";
export const SAMPLES_REFUSED = "--samples is meaningless with a classifier/regression head: one forward pass gives the whole distribution";

/** The pairwise grader of a head: validates both sides and renders side A (side B through sidePrompt). */
export function headPairwiseGrader(absolute: Grader): Grader {
  return {
    ...absolute,
    mode: "pairwise",
    buildMessages(record) {
      const a = sidePrompt(absolute, record, "a");
      sidePrompt(absolute, record, "b");
      return a;
    },
  };
}

function sidePrompt(absolute: Grader, record: Record<string, unknown>, side: "a" | "b"): ChatMessage[] {
  const response = record[`response_${side}`];
  if (response === undefined || response === null) throw new Error(`missing field "response_${side}" (a pairwise record has response_a and response_b)`);
  return absolute.buildMessages({ ...record, response });
}

export class HeadJudger {
  readonly concurrency: number;
  fatal: Error | undefined;
  private readonly semaphore: Semaphore;
  private successes = 0;
  private consecutiveErrors = 0;

  constructor(private readonly options: HeadJudgerOptions) {
    if (options.swap) throw new Error(SWAP_REFUSED);
    if ((options.samples ?? 1) !== 1) throw new Error(SAMPLES_REFUSED);
    this.concurrency = options.concurrency ?? options.head.concurrency;
    this.semaphore = new Semaphore(this.concurrency);
  }

  async judge(input: EngineInput): Promise<Judgment & { index: number }> {
    const started = performance.now();
    const usage = { calls: 0, cached: 0, prompt: 0 };
    const { head, grader } = this.options;
    const base = {
      backend: head.kind,
      model: head.model,
      template: grader.template,
      raw: null,
      ...(grader.rubric ? { rubric: grader.rubric } : {}),
    };
    let fields: Record<string, unknown>;
    let info: Record<string, unknown>;
    try {
      if (grader.mode === "absolute") {
        const call = await this.call(grader.buildMessages(input.record), usage);
        const verdict = headVerdict(call.logits, head.output);
        fields = { ...verdict };
        info = { samples: [sampleOf(verdict)], head: { kind: head.output.kind, logits: call.logits, note: HEAD_NO_FEEDBACK } };
      } else {
        const [a, b] = await Promise.all([
          this.call(grader.buildMessages(input.record), usage),
          // Side B: the pairwise grader renders response_a, so it is given a record whose response_a is B.
          this.call(grader.buildMessages({ ...input.record, response_a: input.record.response_b }), usage),
        ]);
        const va = headVerdict(a.logits, head.output);
        const vb = headVerdict(b.logits, head.output);
        const winner = pairVerdict(va.score, vb.score);
        fields = { winner, ...(va.score_distribution && vb.score_distribution ? { winner_distribution: pairDistribution(va.score_distribution, vb.score_distribution) } : {}) };
        info = {
          samples: [{ winner }],
          head: { kind: head.output.kind, scores: { A: va.score, B: vb.score }, expected: { A: va.score_expected, B: vb.score_expected }, logits: { A: a.logits, B: b.logits }, rule: "each response scored alone; a tie when the scores are equal after Python's round() (PHUDGE)", note: HEAD_NO_FEEDBACK },
        };
      }
      this.options.stats.judged++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      fields = grader.mode === "absolute" ? { score: null } : { winner: null };
      fields.error = message;
      info = { samples: [{ error: message }], head: { kind: head.output.kind, note: HEAD_NO_FEEDBACK } };
      this.options.stats.failed++;
    }
    return {
      ...input.record,
      feedback: null,
      ...fields,
      judge: {
        ...base,
        ...info,
        tokens: { prompt: usage.prompt, completion: 0 },
        latencyMs: Math.round(performance.now() - started),
        cached: usage.calls > 0 && usage.cached === usage.calls,
        calls: usage.calls,
      },
      index: input.index,
    } as Judgment & { index: number };
  }

  private async call(messages: ChatMessage[], usage: { calls: number; cached: number; prompt: number }): Promise<HeadCall> {
    const { head, store, stats } = this.options;
    const key = callKey({ backend: head.kind, model: head.model, variant: "head", messages, params: {} });
    usage.calls++;
    stats.calls++;
    const hit = store?.getCall(key) as HeadCall | undefined;
    if (hit && Array.isArray(hit.logits)) {
      usage.cached++;
      stats.cachedCalls++;
      usage.prompt += hit.usage.promptTokens;
      stats.promptTokens += hit.usage.promptTokens;
      return hit;
    }
    const call = await this.semaphore.run(async () => {
      const started = performance.now();
      try {
        const [scored] = await head.score([messages]);
        this.successes++;
        this.consecutiveErrors = 0;
        return { text: "", usage: { promptTokens: scored!.promptTokens, completionTokens: 0 }, latencyMs: Math.round(performance.now() - started), logits: scored!.logits } satisfies HeadCall;
      } catch (error) {
        stats.backendErrors++;
        this.consecutiveErrors++;
        if (this.successes === 0 && this.consecutiveErrors >= UNAVAILABLE_AFTER && !this.fatal) {
          this.fatal = new BackendUnavailableError(`the ${head.kind} head failed ${this.consecutiveErrors} calls in a row and never answered: ${(error as Error).message}`);
        }
        throw new Error(`head error: ${(error as Error).message}`, { cause: error });
      }
    });
    store?.putCall(key, call);
    usage.prompt += call.usage.promptTokens;
    stats.promptTokens += call.usage.promptTokens;
    stats.paidPromptTokens += call.usage.promptTokens;
    return call;
  }
}

function sampleOf(v: HeadVerdict): Record<string, unknown> {
  return { score: v.score, ...(v.score_distribution ? { distribution: v.score_distribution } : {}) };
}
